#include "finfuse/data/market_clock.h"

#include "finfuse/core/error.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace finfuse::data {

struct MarketClock::Zone {
  const date::time_zone* zone;
};

MarketClock::MarketClock(const MarketClockOptions& options) : options_(options) {
  const auto open = parse_time_of_day(options.open);
  const auto close = parse_time_of_day(options.close);
  if (!open || !close) {
    throw Error(fmt::format("market session times must be \"HH:MM[:SS]\", got open \"{}\" and close \"{}\"",
                            options.open, options.close));
  }
  if (*open >= *close) {
    throw Error(fmt::format("the market must open before it closes, got open {} and close {}", options.open,
                            options.close));
  }
  open_seconds_ = *open;
  close_seconds_ = *close;
  try {
    zone_ = std::make_shared<const Zone>(Zone{date::locate_zone(options.timezone)});
  } catch (const std::exception& e) {
    throw Error(fmt::format("unknown time zone '{}' (an IANA name such as 'America/New_York' is expected; is the "
                            "tzdata package installed?): {}",
                            options.timezone, e.what()));
  }
  auto calendar = options.calendar;
  if (calendar.exchange() == "auto") {
    calendar.exchange(options.timezone == "America/New_York" ? "NYSE" : "none");
  }
  if (calendar.exchange() != "none" || !calendar.file().empty()) {
    calendar_ = std::make_shared<const ExchangeCalendar>(calendar);
  }
}

MarketClock::~MarketClock() = default;
MarketClock::MarketClock(const MarketClock&) = default;
MarketClock& MarketClock::operator=(const MarketClock&) = default;

Timestamp MarketClock::local(Date day, std::int64_t seconds_of_day) const {
  const date::local_seconds local{date::local_days{date::days{day.days()}} + std::chrono::seconds{seconds_of_day}};
  // In a daylight-saving gap or overlap, take the earlier instant.
  const auto utc = zone_->zone->to_sys(local, date::choose::earliest);
  return Timestamp(utc.time_since_epoch().count());
}

Timestamp MarketClock::open(Date day) const { return local(day, open_seconds_); }
Timestamp MarketClock::close(Date day) const {
  if (calendar_) {
    if (const auto early = calendar_->early_close(day)) {
      return local(day, std::min(*early, close_seconds_));
    }
  }
  return local(day, close_seconds_);
}

void MarketClockOptions::validate(const Config& config) const {
  for (const char* key : {"open", "close"}) {
    if (!parse_time_of_day(key == std::string("open") ? open : close)) {
      config.fail_at(key, "expected a local time \"HH:MM\" or \"HH:MM:SS\"");
    }
  }
  try {
    auto times = *this;  // the calendar file is read when the clock is built, from the resolved path
    times.calendar.file(std::filesystem::path());
    MarketClock check(times);
  } catch (const Error& e) {
    config.fail(e.what());
  }
}

}  // namespace finfuse::data
