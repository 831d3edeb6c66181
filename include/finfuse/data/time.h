// Calendar dates and UTC instants, the time axis of point-in-time assembly. Dates are days since 1970-01-01;
// timestamps are seconds since 1970-01-01T00:00:00Z. Calendar arithmetic comes from Howard Hinnant's date library.
#pragma once

#include "finfuse/core/config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace finfuse::data {

/// A calendar day (proleptic Gregorian), stored as days since 1970-01-01.
class Date {
 public:
  constexpr Date() = default;
  constexpr explicit Date(std::int32_t days_since_epoch) : days_(days_since_epoch) {}

  /// Throws finfuse::Error for a day that does not exist (2015-02-29).
  static Date from_ymd(int year, unsigned month, unsigned day);

  constexpr std::int32_t days() const { return days_; }
  int year() const;
  unsigned month() const;
  unsigned day() const;
  /// 0 = Sunday ... 6 = Saturday.
  unsigned weekday() const;
  /// "YYYY-MM-DD".
  std::string to_string() const;

  constexpr Date operator+(std::int32_t n) const { return Date(days_ + n); }
  constexpr Date operator-(std::int32_t n) const { return Date(days_ - n); }
  constexpr std::int32_t operator-(Date other) const { return days_ - other.days_; }
  constexpr bool operator==(Date other) const { return days_ == other.days_; }
  constexpr bool operator!=(Date other) const { return days_ != other.days_; }
  constexpr bool operator<(Date other) const { return days_ < other.days_; }
  constexpr bool operator<=(Date other) const { return days_ <= other.days_; }
  constexpr bool operator>(Date other) const { return days_ > other.days_; }
  constexpr bool operator>=(Date other) const { return days_ >= other.days_; }

 private:
  std::int32_t days_ = 0;
};

/// An instant in UTC, seconds since the Unix epoch.
class Timestamp {
 public:
  constexpr Timestamp() = default;
  constexpr explicit Timestamp(std::int64_t seconds_since_epoch) : seconds_(seconds_since_epoch) {}

  /// Midnight UTC at the start of `date`, plus `seconds`.
  static constexpr Timestamp at(Date date, std::int64_t seconds = 0) {
    return Timestamp(static_cast<std::int64_t>(date.days()) * 86400 + seconds);
  }

  constexpr std::int64_t seconds() const { return seconds_; }
  /// The UTC calendar day of this instant.
  Date date() const;
  /// Seconds since midnight UTC of date().
  std::int64_t seconds_of_day() const;
  /// "YYYY-MM-DDTHH:MM:SSZ".
  std::string to_string() const;

  constexpr Timestamp operator+(std::int64_t s) const { return Timestamp(seconds_ + s); }
  constexpr std::int64_t operator-(Timestamp other) const { return seconds_ - other.seconds_; }
  constexpr bool operator==(Timestamp other) const { return seconds_ == other.seconds_; }
  constexpr bool operator!=(Timestamp other) const { return seconds_ != other.seconds_; }
  constexpr bool operator<(Timestamp other) const { return seconds_ < other.seconds_; }
  constexpr bool operator<=(Timestamp other) const { return seconds_ <= other.seconds_; }
  constexpr bool operator>(Timestamp other) const { return seconds_ > other.seconds_; }
  constexpr bool operator>=(Timestamp other) const { return seconds_ >= other.seconds_; }

 private:
  std::int64_t seconds_ = 0;
};

/// Parses "YYYY-MM-DD" (also "YYYY/MM/DD" and "YYYYMMDD"); nothing for anything else or an impossible day.
std::optional<Date> parse_date(std::string_view text);

/// Parses an instant: ISO 8601 "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z", "+HH:MM", "+HHMM" or no
/// offset (UTC), the same with a space instead of "T", Twitter's "Wed Jan 01 03:59:03 +0000 2014", and
/// Unix seconds ("@1388548743"). Nothing for anything else.
std::optional<Timestamp> parse_timestamp(std::string_view text);

/// The instant something became public, as the "available" columns of tables and edge lists hold it: a date alone
/// counts from the next midnight UTC (known by the end of that day), anything else as parse_timestamp() reads it.
std::optional<Timestamp> parse_publication_instant(std::string_view text);

/// A configuration's date value: nothing when the key is absent or empty, a ConfigError at the key when it is not a
/// "YYYY-MM-DD" date.
std::optional<Date> read_date(const Config& config, const std::string& key);
/// The date `text` holds, the value of field `key` of `config` (nothing when empty); a ConfigError at the key when it
/// is not "YYYY-MM-DD".
std::optional<Date> field_date(const Config& config, const std::string& key, const std::string& text);

/// Parses "HH:MM" or "HH:MM:SS" into seconds since midnight; nothing when malformed or out of range.
std::optional<std::int64_t> parse_time_of_day(std::string_view text);

}  // namespace finfuse::data
