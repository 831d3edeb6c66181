// An exchange's trading calendar: which days are sessions, which close early, and the sessions around a day. NYSE's
// rules are built in and generate its holidays for any year (New Year's Day, Martin Luther King Jr. Day from 1998,
// Washington's Birthday, Good Friday, Memorial Day, Juneteenth from 2022, Independence Day, Labor Day, Thanksgiving
// and Christmas, each moved to the nearest weekday as NYSE observes it -- a Saturday New Year's Day is not made up on
// the Friday before), its 13:00 early closes (July 3 and December 24 when they fall Monday to Thursday, and the day
// after Thanksgiving), and its unscheduled closures since 2000 (September 11-14 2001, the national days of mourning of
// 2004, 2007, 2018 and 2025, Hurricane Sandy on October 29-30 2012). Other exchanges, or further closures, come from a
// CSV file ("date,kind,close,description": kind "closed" or "early_close", close "HH:MM" for an early close).
//
//   ExchangeCalendar nyse;                                  // NYSE by default ("auto" is NYSE here)
//   nyse.is_session(Date::from_ymd(2024, 7, 4));            // false: Independence Day
//   nyse.early_close(Date::from_ymd(2024, 7, 3));           // 13:00 (46800 s)
//   nyse.next_session(Date::from_ymd(2024, 3, 28));         // 2024-04-01: Good Friday and a weekend in between
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

struct ExchangeCalendarOptions {
#define FINFUSE_EXCHANGE_CALENDAR_FIELDS(F)                                                                        \
  F(std::string, exchange, "auto", ::finfuse::FieldRule::one_of({"auto", "NYSE", "none"}),                       \
    "built-in holiday rules: NYSE's, none (every weekday is a session unless the file says otherwise), or auto "  \
    "(NYSE's when the market's time zone is America/New_York, else none)")                                        \
  F(std::filesystem::path, file, {}, ::finfuse::FieldRule(),                                                        \
    "a CSV of further closures and early closes, with columns date, kind (closed or early_close), close, description")         \
  F(std::string, early_close, "13:00", ::finfuse::FieldRule(), "local close of the built-in early-close days")
  FINFUSE_OPTIONS(ExchangeCalendarOptions, FINFUSE_EXCHANGE_CALENDAR_FIELDS)
#undef FINFUSE_EXCHANGE_CALENDAR_FIELDS

 public:
  /// early_close is a time of day.
  void validate(const Config& config) const;
};

/// A day off or a short day, with its name.
struct CalendarEvent {
  Date date;
  /// "closed" or "early_close".
  std::string kind;
  /// Local close in seconds since midnight (early closes).
  std::int64_t close = 0;
  std::string name;
};

/// NYSE's scheduled holidays and early closes of `year` by rule, in date order.
std::vector<CalendarEvent> nyse_events(int year);

class ExchangeCalendar {
 public:
  /// Reads the file, if any, as a CSV input (data/csv.h): DataError naming the file, line and field for a malformed
  /// row or a missing column.
  explicit ExchangeCalendar(const ExchangeCalendarOptions& options = {});

  /// A weekday on which the exchange trades.
  bool is_session(Date date) const;
  /// The name of the closure on a weekday that is not a session (nothing on sessions and weekends).
  std::optional<std::string> closure(Date date) const;
  /// The local close of an early-close session, in seconds since midnight (nothing on a full session).
  std::optional<std::int64_t> early_close(Date date) const;
  /// The first session after `date` (strictly), and the last before it.
  Date next_session(Date date) const;
  Date previous_session(Date date) const;
  /// Every session from `first` to `last`, both included.
  std::vector<Date> sessions(Date first, Date last) const;

  const ExchangeCalendarOptions& options() const { return options_; }

 private:
  const std::map<std::int32_t, CalendarEvent>& events_of(int year) const;
  /// The day's event, if any (nothing on weekends).
  const CalendarEvent* event_on(Date date) const;

  /// Built-in and file events by year, computed once per year and shared by copies of the calendar (calendars are
  /// shared across threads).
  struct YearCache {
    std::mutex mutex;
    std::map<int, std::map<std::int32_t, CalendarEvent>> years;
  };

  ExchangeCalendarOptions options_;
  std::int64_t early_close_ = 0;
  /// The file's events, by day.
  std::map<std::int32_t, CalendarEvent> extra_;
  std::shared_ptr<YearCache> cache_;
};

}  // namespace finfuse::data
