#include "finfuse/data/time.h"

#include "finfuse/core/error.h"

#include <date/date.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>

namespace finfuse::data {
namespace {

date::year_month_day to_ymd(Date d) { return date::year_month_day{date::sys_days{date::days{d.days()}}}; }

std::optional<Date> make_date(int year, unsigned month, unsigned day) {
  const date::year_month_day ymd{date::year{year}, date::month{month}, date::day{day}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  return Date(static_cast<std::int32_t>(date::sys_days{ymd}.time_since_epoch().count()));
}

// Reads exactly `width` decimal digits at `pos`.
bool read_digits(std::string_view s, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > s.size()) {
    return false;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

// "HH:MM[:SS[.fff...]]" starting at pos; returns the position after it.
std::optional<std::size_t> read_clock(std::string_view s, std::size_t pos, std::int64_t& seconds) {
  int h = 0;
  int m = 0;
  int sec = 0;
  if (!read_digits(s, pos, 2, h) || pos + 2 >= s.size() || s[pos + 2] != ':' || !read_digits(s, pos + 3, 2, m)) {
    return std::nullopt;
  }
  pos += 5;
  if (pos < s.size() && s[pos] == ':') {
    if (!read_digits(s, pos + 1, 2, sec)) {
      return std::nullopt;
    }
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      const std::size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        ++pos;
      }
      if (pos == start) {
        return std::nullopt;
      }
    }
  }
  // 24:00:00 is not accepted: an instant has exactly one spelling here.
  if (h > 23 || m > 59 || sec > 60) {
    return std::nullopt;
  }
  seconds = h * 3600 + m * 60 + std::min(sec, 59);
  return pos;
}

// "Z", "+HH:MM", "+HHMM", "+HH" or "" at pos (must end the string); offset in seconds east of UTC.
bool read_offset(std::string_view s, std::size_t pos, std::int64_t& offset) {
  if (pos == s.size()) {
    offset = 0;
    return true;
  }
  if (s[pos] == 'Z' || s[pos] == 'z') {
    offset = 0;
    return pos + 1 == s.size();
  }
  if (s[pos] != '+' && s[pos] != '-') {
    return false;
  }
  const int sign = s[pos] == '-' ? -1 : 1;
  int h = 0;
  int m = 0;
  if (!read_digits(s, pos + 1, 2, h)) {
    return false;
  }
  std::size_t next = pos + 3;
  if (next < s.size()) {
    if (s[next] == ':') {
      ++next;
    }
    if (!read_digits(s, next, 2, m)) {
      return false;
    }
    next += 2;
  }
  if (next != s.size() || h > 23 || m > 59) {
    return false;
  }
  offset = sign * (h * 3600 + m * 60);
  return true;
}

int month_from_name(std::string_view name) {
  static constexpr std::array<const char*, 12> names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (name == names[i]) {
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

bool is_weekday_name(std::string_view name) {
  for (const char* day : {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}) {
    if (name == day) {
      return true;
    }
  }
  return false;
}

// "Wed Jan 01 03:59:03 +0000 2014"
std::optional<Timestamp> parse_twitter(std::string_view s) {
  if (s.size() != 30 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ' || s[25] != ' ' ||
      !is_weekday_name(s.substr(0, 3))) {
    return std::nullopt;
  }
  const int month = month_from_name(s.substr(4, 3));
  int day = 0;
  int year = 0;
  std::int64_t clock = 0;
  std::int64_t offset = 0;
  if (month == 0 || !read_digits(s, 8, 2, day) || !read_digits(s, 26, 4, year)) {
    return std::nullopt;
  }
  const auto after_clock = read_clock(s.substr(0, 19), 11, clock);
  if (!after_clock || *after_clock != 19 || !read_offset(s.substr(0, 25), 20, offset)) {
    return std::nullopt;
  }
  const auto date = make_date(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  if (!date) {
    return std::nullopt;
  }
  return Timestamp::at(*date, clock - offset);
}

}  // namespace

Date Date::from_ymd(int year, unsigned month, unsigned day) {
  if (auto date = make_date(year, month, day)) {
    return *date;
  }
  throw Error(fmt::format("{:04d}-{:02d}-{:02d} is not a valid calendar date", year, month, day));
}

int Date::year() const { return static_cast<int>(to_ymd(*this).year()); }
unsigned Date::month() const { return static_cast<unsigned>(to_ymd(*this).month()); }
unsigned Date::day() const { return static_cast<unsigned>(to_ymd(*this).day()); }

unsigned Date::weekday() const {
  return date::weekday{date::sys_days{date::days{days_}}}.c_encoding();
}

std::string Date::to_string() const {
  const auto ymd = to_ymd(*this);
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

Date Timestamp::date() const {
  // Floor division: instants before 1970 belong to the earlier day.
  std::int64_t days = seconds_ / 86400;
  if (seconds_ % 86400 < 0) {
    --days;
  }
  return Date(static_cast<std::int32_t>(days));
}

std::int64_t Timestamp::seconds_of_day() const { return seconds_ - static_cast<std::int64_t>(date().days()) * 86400; }

std::string Timestamp::to_string() const {
  const std::int64_t s = seconds_of_day();
  return fmt::format("{}T{:02d}:{:02d}:{:02d}Z", date().to_string(), s / 3600, (s / 60) % 60, s % 60);
}

std::optional<Date> parse_date(std::string_view s) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (s.size() == 10 && (s[4] == '-' || s[4] == '/') && s[7] == s[4]) {
    if (!read_digits(s, 0, 4, y) || !read_digits(s, 5, 2, m) || !read_digits(s, 8, 2, d)) {
      return std::nullopt;
    }
  } else if (s.size() == 8) {
    if (!read_digits(s, 0, 4, y) || !read_digits(s, 4, 2, m) || !read_digits(s, 6, 2, d)) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  return make_date(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<Timestamp> parse_publication_instant(std::string_view text) {
  if (const auto day = parse_date(text)) {
    return Timestamp::at(*day + 1);
  }
  return parse_timestamp(text);
}

std::optional<Timestamp> parse_timestamp(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  if (s[0] == '@') {
    std::int64_t seconds = 0;
    const auto* end = s.data() + s.size();
    const auto result = std::from_chars(s.data() + 1, end, seconds);
    if (result.ec != std::errc() || result.ptr != end || s.size() == 1) {
      return std::nullopt;
    }
    return Timestamp(seconds);
  }
  if (s.size() >= 10 && s[4] == '-') {
    const auto date = parse_date(s.substr(0, 10));
    if (!date) {
      return std::nullopt;
    }
    if (s.size() == 10) {
      return Timestamp::at(*date);
    }
    if (s[10] != 'T' && s[10] != ' ' && s[10] != 't') {
      return std::nullopt;
    }
    std::int64_t clock = 0;
    std::int64_t offset = 0;
    const auto after = read_clock(s, 11, clock);
    if (!after || !read_offset(s, *after, offset)) {
      return std::nullopt;
    }
    return Timestamp::at(*date, clock - offset);
  }
  return parse_twitter(s);
}

std::optional<Date> read_date(const Config& config, const std::string& key) {
  return field_date(config, key, config.get<std::string>(key, std::string()));
}

std::optional<Date> field_date(const Config& config, const std::string& key, const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  const auto date = parse_date(text);
  if (!date) {
    config.fail_at(key, fmt::format("expected a date \"YYYY-MM-DD\", got \"{}\"", text));
  }
  return date;
}

std::optional<std::int64_t> parse_time_of_day(std::string_view s) {
  std::int64_t seconds = 0;
  const auto after = read_clock(s, 0, seconds);
  if (!after || *after != s.size()) {
    return std::nullopt;
  }
  return seconds;
}

}  // namespace finfuse::data
