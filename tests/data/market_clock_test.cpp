#include "finfuse/data/market_clock.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

namespace finfuse::data {
namespace {

TEST(MarketClock, NewYorkSessionAcrossDaylightSaving) {
  const MarketClock clock;
  // Winter (EST, UTC-5): 09:30 local is 14:30 UTC; summer (EDT, UTC-4): 13:30 UTC.
  EXPECT_EQ(clock.open(Date::from_ymd(2014, 1, 2)), *parse_timestamp("2014-01-02T14:30:00Z"));
  EXPECT_EQ(clock.close(Date::from_ymd(2014, 1, 2)), *parse_timestamp("2014-01-02T21:00:00Z"));
  EXPECT_EQ(clock.open(Date::from_ymd(2015, 7, 1)), *parse_timestamp("2015-07-01T13:30:00Z"));
  // 2015-03-08 is the switch to daylight time; the Monday after opens an hour earlier in UTC.
  EXPECT_EQ(clock.open(Date::from_ymd(2015, 3, 6)), *parse_timestamp("2015-03-06T14:30:00Z"));
  EXPECT_EQ(clock.open(Date::from_ymd(2015, 3, 9)), *parse_timestamp("2015-03-09T13:30:00Z"));
}

TEST(MarketClock, OtherZonesAndErrors) {
  MarketClockOptions tokyo;
  tokyo.timezone = "Asia/Tokyo";
  tokyo.open = "09:00";
  tokyo.close = "15:00";
  EXPECT_EQ(MarketClock(tokyo).open(Date::from_ymd(2015, 7, 1)), *parse_timestamp("2015-07-01T00:00:00Z"));
  MarketClockOptions bad = tokyo;
  bad.timezone = "Mars/Olympus";
  EXPECT_THROW(MarketClock{bad}, Error);
  bad = tokyo;
  bad.close = "08:00";
  EXPECT_THROW(MarketClock{bad}, Error);
  try {
    MarketClockOptions::from_config(Config::parse(R"({"timezone": "Europe/London", "open": "8am"})", "m.json"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/open");
  }
  EXPECT_EQ(MarketClockOptions::from_config(Config(tokyo.to_json())).to_json(), tokyo.to_json());
}

}  // namespace
}  // namespace finfuse::data
