// The trading session of a market in its own time zone, so that "before the open of day d" is an exact UTC instant
// on every day of the year, across daylight-saving changes, and the exchange's calendar: which days are sessions and
// which close early (data/exchange_calendar.h; NYSE's by default for New York). Time zones come from the system's tz
// database.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/exchange_calendar.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <memory>
#include <string>

namespace finfuse::data {

struct MarketClockOptions {
#define FINFUSE_MARKET_CLOCK_FIELDS(F)                                                                            \
  F(std::string, timezone, "America/New_York", {}, "IANA time zone name")                                         \
  F(std::string, open, "09:30", {}, "local session open, HH:MM or HH:MM:SS")                                      \
  F(std::string, close, "16:00", {}, "local session close, HH:MM or HH:MM:SS")                                    \
  F(ExchangeCalendarOptions, calendar, {}, {},                                                                    \
    "the exchange's holidays and early closes: decisions fall on sessions only, an early-close day closes at "    \
    "its early close (decisions, text cut-offs, labels), and label horizons count sessions")
  FINFUSE_FIELDS(MarketClockOptions, FINFUSE_MARKET_CLOCK_FIELDS)
#undef FINFUSE_MARKET_CLOCK_FIELDS

  void validate(const Config& config) const;
};


class MarketClock {
 public:
  /// Throws finfuse::Error for an unknown time zone or malformed or inverted session times.
  explicit MarketClock(const MarketClockOptions& options = {});
  ~MarketClock();
  MarketClock(const MarketClock&);
  MarketClock& operator=(const MarketClock&);

  /// The UTC instant of the session open / close on `date` (local calendar day); close() is the early close on the
  /// calendar's early-close days.
  Timestamp open(Date date) const;
  Timestamp close(Date date) const;
  /// The exchange calendar, or nothing with `calendar.exchange` "none" (or "auto" outside New York) and no file:
  /// then the data's own dates are the sessions.
  const ExchangeCalendar* calendar() const { return calendar_.get(); }
  /// The UTC instant of local time `seconds_of_day` on `date`.
  Timestamp local(Date date, std::int64_t seconds_of_day) const;

  const MarketClockOptions& options() const { return options_; }

 private:
  struct Zone;
  MarketClockOptions options_;
  std::int64_t open_seconds_ = 0;
  std::int64_t close_seconds_ = 0;
  std::shared_ptr<const Zone> zone_;
  std::shared_ptr<const ExchangeCalendar> calendar_;
};

}  // namespace finfuse::data
