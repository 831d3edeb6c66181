#include "finfuse/data/market_clock.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

// The exchange calendar in the clock: New York gets NYSE's ("auto"), whose early closes move close(); "none" keeps the
// session's close every day; another time zone has no calendar unless asked for one; a file adds an exchange's own
// closures.
TEST(MarketClock, EarlyClosesComeFromTheExchangeCalendar) {
  const MarketClock nyse;
  ASSERT_NE(nyse.calendar(), nullptr);
  EXPECT_EQ(nyse.close(Date::from_ymd(2024, 7, 3)), *parse_timestamp("2024-07-03T17:00:00Z"));    // 13:00 EDT
  EXPECT_EQ(nyse.close(Date::from_ymd(2024, 7, 2)), *parse_timestamp("2024-07-02T20:00:00Z"));    // 16:00 EDT
  EXPECT_EQ(nyse.close(Date::from_ymd(2024, 11, 29)), *parse_timestamp("2024-11-29T18:00:00Z"));  // 13:00 EST
  EXPECT_EQ(nyse.open(Date::from_ymd(2024, 11, 29)), *parse_timestamp("2024-11-29T14:30:00Z"));
  EXPECT_FALSE(nyse.calendar()->is_session(Date::from_ymd(2024, 3, 29)));  // Good Friday

  MarketClockOptions none;
  none.calendar.exchange("none");
  const MarketClock plain(none);
  EXPECT_EQ(plain.calendar(), nullptr);
  EXPECT_EQ(plain.close(Date::from_ymd(2024, 7, 3)), *parse_timestamp("2024-07-03T20:00:00Z"));

  MarketClockOptions tokyo;
  tokyo.timezone = "Asia/Tokyo";
  tokyo.open = "09:00";
  tokyo.close = "15:00";
  EXPECT_EQ(MarketClock(tokyo).calendar(), nullptr) << "auto is NYSE's calendar for New York only";
  const auto dir = std::filesystem::temp_directory_path() / "finfuse_market_clock_calendar";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tse.csv") << "date,kind,close,description\n2024-01-02,closed,,New Year holiday\n"
                                 << "2024-12-30,early_close,11:30,last session of the year\n";
  tokyo.calendar.file(dir / "tse.csv");
  const MarketClock tse(tokyo);
  ASSERT_NE(tse.calendar(), nullptr);
  EXPECT_FALSE(tse.calendar()->is_session(Date::from_ymd(2024, 1, 2)));
  EXPECT_TRUE(tse.calendar()->is_session(Date::from_ymd(2024, 7, 4))) << "no NYSE holidays in Tokyo";
  EXPECT_EQ(tse.close(Date::from_ymd(2024, 12, 30)), *parse_timestamp("2024-12-30T02:30:00Z"));  // 11:30 JST
  // Through configuration: the nested key, and its round trip.
  const auto read = MarketClockOptions::from_config(
      Config::parse(R"({"timezone": "Asia/Tokyo", "calendar": {"exchange": "none", "early_close": "11:30"}})"));
  EXPECT_EQ(read.calendar.exchange(), "none");
  EXPECT_EQ(MarketClockOptions::from_config(Config(read.to_json())).to_json(), read.to_json());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse::data
