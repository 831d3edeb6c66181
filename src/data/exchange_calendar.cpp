// Exchange calendars: NYSE's holiday and early-close rules, unscheduled closures, and closures from a file.
#include "finfuse/data/exchange_calendar.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/data/csv.h"

#include <fmt/format.h>

#include <algorithm>

namespace finfuse::data {
namespace {

constexpr unsigned kSunday = 0;
constexpr unsigned kMonday = 1;
constexpr unsigned kThursday = 4;
constexpr unsigned kSaturday = 6;

// The n-th (1-based) `weekday` of the month; n = -1: the last.
Date nth_weekday(int year, unsigned month, unsigned weekday, int n) {
  if (n > 0) {
    const Date first = Date::from_ymd(year, month, 1);
    const auto shift = static_cast<std::int32_t>((weekday + 7 - first.weekday()) % 7);
    return first + shift + 7 * (n - 1);
  }
  const Date next_month = month == 12 ? Date::from_ymd(year + 1, 1, 1) : Date::from_ymd(year, month + 1, 1);
  const Date last = next_month - 1;
  return last - static_cast<std::int32_t>((last.weekday() + 7 - weekday) % 7);
}

// Easter Sunday (Gregorian; the anonymous algorithm of Meeus/Jones/Butcher).
Date easter(int year) {
  const int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
  const int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return Date::from_ymd(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

// A fixed-date holiday as NYSE observes it: a Sunday moves to Monday, a Saturday to Friday.
Date observed(Date date) {
  if (date.weekday() == kSunday) {
    return date + 1;
  }
  if (date.weekday() == kSaturday) {
    return date - 1;
  }
  return date;
}

// Closures NYSE did not schedule, since 2000.
const std::vector<std::pair<const char*, const char*>>& unscheduled_closures() {
  static const std::vector<std::pair<const char*, const char*>> closures = {
      {"2001-09-11", "September 11 attacks"},
      {"2001-09-12", "September 11 attacks"},
      {"2001-09-13", "September 11 attacks"},
      {"2001-09-14", "September 11 attacks"},
      {"2004-06-11", "national day of mourning for Ronald Reagan"},
      {"2007-01-02", "national day of mourning for Gerald Ford"},
      {"2012-10-29", "Hurricane Sandy"},
      {"2012-10-30", "Hurricane Sandy"},
      {"2018-12-05", "national day of mourning for George H. W. Bush"},
      {"2025-01-09", "national day of mourning for Jimmy Carter"}};
  return closures;
}

}  // namespace

void ExchangeCalendarOptions::validate(const Config& config) const {
  if (!parse_time_of_day(early_close())) {
    config.fail_at("early_close", fmt::format("expected a time of day \"HH:MM\", got \"{}\"", early_close()));
  }
}

std::vector<CalendarEvent> nyse_events(int year) {
  const std::int64_t early = 13 * 3600;
  std::vector<CalendarEvent> out;
  const auto closed = [&](Date date, const char* name) { out.push_back(CalendarEvent{date, "closed", 0, name}); };
  const Date new_year = Date::from_ymd(year, 1, 1);
  if (new_year.weekday() != kSaturday) {  // a Saturday New Year's Day is not made up on the Friday before
    closed(observed(new_year), "New Year's Day");
  }
  if (year >= 1998) {
    closed(nth_weekday(year, 1, kMonday, 3), "Martin Luther King Jr. Day");
  }
  closed(year >= 1971 ? nth_weekday(year, 2, kMonday, 3) : observed(Date::from_ymd(year, 2, 22)),
         "Washington's Birthday");
  closed(easter(year) - 2, "Good Friday");
  closed(year >= 1971 ? nth_weekday(year, 5, kMonday, -1) : observed(Date::from_ymd(year, 5, 30)), "Memorial Day");
  if (year >= 2022) {
    closed(observed(Date::from_ymd(year, 6, 19)), "Juneteenth National Independence Day");
  }
  closed(observed(Date::from_ymd(year, 7, 4)), "Independence Day");
  closed(nth_weekday(year, 9, kMonday, 1), "Labor Day");
  const Date thanksgiving = nth_weekday(year, 11, kThursday, 4);
  closed(thanksgiving, "Thanksgiving Day");
  closed(observed(Date::from_ymd(year, 12, 25)), "Christmas Day");
  for (const auto& [day, name] : unscheduled_closures()) {
    const auto date = parse_date(day);
    if (date && date->year() == year) {
      closed(*date, name);
    }
  }
  const Date july3 = Date::from_ymd(year, 7, 3);
  if (july3.weekday() >= kMonday && july3.weekday() <= kThursday) {
    out.push_back(CalendarEvent{july3, "early_close", early, "the day before Independence Day"});
  }
  out.push_back(CalendarEvent{thanksgiving + 1, "early_close", early, "the day after Thanksgiving"});
  const Date eve = Date::from_ymd(year, 12, 24);
  if (eve.weekday() >= kMonday && eve.weekday() <= kThursday) {
    out.push_back(CalendarEvent{eve, "early_close", early, "Christmas Eve"});
  }
  std::sort(out.begin(), out.end(), [](const CalendarEvent& a, const CalendarEvent& b) { return a.date < b.date; });
  return out;
}

ExchangeCalendar::ExchangeCalendar(const ExchangeCalendarOptions& options)
    : options_(options), cache_(std::make_shared<YearCache>()) {
  const auto close = parse_time_of_day(options_.early_close());
  FINFUSE_CHECK(close.has_value(), "exchange calendar: early_close must be \"HH:MM\", got \"", options_.early_close(),
                "\"");
  early_close_ = *close;
  if (options_.file().empty()) {
    return;
  }
  // The file is read like every CSV input: quoting, encodings and errors naming the file, line and column.
  auto reader = CsvReader::open(options_.file());
  const auto date_column = reader.require_column("date");
  const auto kind_column = reader.require_column("kind");
  const auto close_column = reader.find_column("close");
  const auto name_column = reader.find_column("description");
  const auto field = [](const CsvRecord& record, std::optional<std::size_t> column) {
    return column && *column < record.size() ? std::string(trim(record[*column])) : std::string();
  };
  CsvRecord record;
  while (reader.next(record)) {
    reader.expect_width(record);
    const std::string file = reader.source();
    const std::string day = field(record, date_column);
    const auto date = parse_date(day);
    if (!date) {
      throw DataError(file, record.line, "date", fmt::format("expected YYYY-MM-DD, got {}", quoted_value(day)));
    }
    const std::string kind = field(record, kind_column);
    const std::string name = field(record, name_column);
    CalendarEvent event{*date, kind, 0, name.empty() ? kind : name};
    if (kind == "early_close") {
      const std::string at = field(record, close_column);
      const auto seconds = at.empty() ? std::optional<std::int64_t>(early_close_) : parse_time_of_day(at);
      if (!seconds) {
        throw DataError(file, record.line, "close", fmt::format("expected HH:MM, got {}", quoted_value(at)));
      }
      event.close = *seconds;
    } else if (kind != "closed") {
      throw DataError(file, record.line, "kind", fmt::format("expected closed or early_close, got {}", quoted_value(kind)));
    }
    extra_[date->days()] = event;
  }
}

const std::map<std::int32_t, CalendarEvent>& ExchangeCalendar::events_of(int year) const {
  std::lock_guard<std::mutex> lock(cache_->mutex);
  auto it = cache_->years.find(year);
  if (it != cache_->years.end()) {
    return it->second;  // map nodes stay where they are when other years are added
  }
  std::map<std::int32_t, CalendarEvent> events;
  if (options_.exchange() != "none") {  // "auto" alone is NYSE; MarketClock resolves it by the time zone
    for (auto event : nyse_events(year)) {
      if (event.kind == "early_close") {
        event.close = early_close_;
      }
      events[event.date.days()] = event;
    }
  }
  for (const auto& [day, event] : extra_) {
    if (event.date.year() == year) {
      events[day] = event;  // the file's word is the last
    }
  }
  return cache_->years.emplace(year, std::move(events)).first->second;
}

const CalendarEvent* ExchangeCalendar::event_on(Date date) const {
  if (date.weekday() == kSunday || date.weekday() == kSaturday) {
    return nullptr;
  }
  const auto& events = events_of(date.year());
  const auto it = events.find(date.days());
  return it == events.end() ? nullptr : &it->second;
}

std::optional<std::string> ExchangeCalendar::closure(Date date) const {
  const auto* event = event_on(date);
  return event != nullptr && event->kind == "closed" ? std::optional<std::string>(event->name) : std::nullopt;
}

bool ExchangeCalendar::is_session(Date date) const {
  if (date.weekday() == kSunday || date.weekday() == kSaturday) {
    return false;
  }
  const auto* event = event_on(date);
  return event == nullptr || event->kind != "closed";
}

std::optional<std::int64_t> ExchangeCalendar::early_close(Date date) const {
  const auto* event = event_on(date);
  return event != nullptr && event->kind == "early_close" ? std::optional<std::int64_t>(event->close) : std::nullopt;
}

Date ExchangeCalendar::next_session(Date date) const {
  Date d = date + 1;
  while (!is_session(d)) {
    d = d + 1;
  }
  return d;
}

Date ExchangeCalendar::previous_session(Date date) const {
  Date d = date - 1;
  while (!is_session(d)) {
    d = d - 1;
  }
  return d;
}

std::vector<Date> ExchangeCalendar::sessions(Date first, Date last) const {
  std::vector<Date> out;
  for (Date d = first; d <= last; d = d + 1) {
    if (is_session(d)) {
      out.push_back(d);
    }
  }
  return out;
}

}  // namespace finfuse::data
