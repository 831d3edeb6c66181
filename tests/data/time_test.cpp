#include "finfuse/data/time.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

namespace finfuse::data {
namespace {

TEST(Date, CivilConversionsAgainstKnownDays) {
  EXPECT_EQ(Date::from_ymd(1970, 1, 1).days(), 0);
  EXPECT_EQ(Date::from_ymd(2000, 3, 1).days(), 11017);  // after the leap day of a year divisible by 400
  EXPECT_EQ(Date::from_ymd(2014, 1, 1).days(), 16071);
  EXPECT_EQ(Date::from_ymd(1969, 12, 31).days(), -1);
  const Date d = Date::from_ymd(2016, 2, 29);
  EXPECT_EQ(d.year(), 2016);
  EXPECT_EQ(d.month(), 2u);
  EXPECT_EQ(d.day(), 29u);
  EXPECT_EQ(d.to_string(), "2016-02-29");
  EXPECT_EQ((d + 1).to_string(), "2016-03-01");
  EXPECT_EQ(Date::from_ymd(2015, 10, 1) - Date::from_ymd(2015, 8, 1), 61);
  EXPECT_EQ(Date::from_ymd(2014, 1, 1).weekday(), 3u);  // a Wednesday
  EXPECT_THROW(Date::from_ymd(2015, 2, 29), Error);
  EXPECT_THROW(Date::from_ymd(2015, 13, 1), Error);
}

TEST(Date, Parsing) {
  EXPECT_EQ(parse_date("2015-08-01"), Date::from_ymd(2015, 8, 1));
  EXPECT_EQ(parse_date("2015/08/01"), Date::from_ymd(2015, 8, 1));
  EXPECT_EQ(parse_date("20150801"), Date::from_ymd(2015, 8, 1));
  for (const char* bad : {"", "2015-8-1", "2015-02-30", "2015-08-01x", "15-08-01", "2015-08/01", "abcd-ef-gh",
                          "2015-00-10", " 2015-08-01"}) {
    EXPECT_EQ(parse_date(bad), std::nullopt) << bad;
  }
}

TEST(Timestamp, IsoForms) {
  const Timestamp midnight = Timestamp::at(Date::from_ymd(2014, 1, 1));
  EXPECT_EQ(midnight.seconds(), 16071LL * 86400);
  EXPECT_EQ(parse_timestamp("2014-01-01"), midnight);
  EXPECT_EQ(parse_timestamp("2014-01-01T03:59:03Z"), midnight + (3 * 3600 + 59 * 60 + 3));
  EXPECT_EQ(parse_timestamp("2014-01-01 03:59:03"), midnight + (3 * 3600 + 59 * 60 + 3));
  EXPECT_EQ(parse_timestamp("2014-01-01T03:59"), midnight + (3 * 3600 + 59 * 60));
  EXPECT_EQ(parse_timestamp("2014-01-01T03:59:03.250Z"), midnight + (3 * 3600 + 59 * 60 + 3));
  // 09:30 in New York in winter (UTC-5) is 14:30 UTC.
  EXPECT_EQ(parse_timestamp("2014-01-02T09:30:00-05:00"), Timestamp::at(Date::from_ymd(2014, 1, 2), 14 * 3600 + 1800));
  EXPECT_EQ(parse_timestamp("2014-01-02T09:30:00-0500"), parse_timestamp("2014-01-02T14:30:00Z"));
  EXPECT_EQ(parse_timestamp("2014-01-02T01:00:00+02:00")->date(), Date::from_ymd(2014, 1, 1));
  EXPECT_EQ(parse_timestamp("@1388548743"), Timestamp(1388548743));
  for (const char* bad : {"2014-01-01T25:00", "2014-01-01T03:60", "2014-01-01X03:00", "2014-01-01T03:00+5",
                          "2014-01-01T03:00:00Zjunk", "@", "@12x", "yesterday"}) {
    EXPECT_EQ(parse_timestamp(bad), std::nullopt) << bad;
  }
}

TEST(Timestamp, TwitterForm) {
  // StockNet's created_at values.
  EXPECT_EQ(parse_timestamp("Wed Jan 01 03:59:03 +0000 2014"), parse_timestamp("2014-01-01T03:59:03Z"));
  EXPECT_EQ(parse_timestamp("Tue Dec 31 23:00:00 -0500 2013"), parse_timestamp("2014-01-01T04:00:00Z"));
  EXPECT_EQ(parse_timestamp("Wed Jan 01 03:59:03 +0000 14"), std::nullopt);
  EXPECT_EQ(parse_timestamp("Wed Foo 01 03:59:03 +0000 2014"), std::nullopt);
  EXPECT_EQ(parse_timestamp("Xyz Jan 01 03:59:03 +0000 2014"), std::nullopt);
}

TEST(Timestamp, DayAndClock) {
  const auto t = *parse_timestamp("1969-12-31T23:00:00Z");
  EXPECT_EQ(t.date(), Date::from_ymd(1969, 12, 31));
  EXPECT_EQ(t.seconds_of_day(), 23 * 3600);
  EXPECT_EQ(parse_timestamp("2015-10-01T13:30:05Z")->to_string(), "2015-10-01T13:30:05Z");
  EXPECT_EQ(parse_time_of_day("09:30"), 9 * 3600 + 1800);
  EXPECT_EQ(parse_time_of_day("16:00:30"), 16 * 3600 + 30);
  EXPECT_EQ(parse_time_of_day("9:30"), std::nullopt);
  EXPECT_EQ(parse_time_of_day("24:00"), std::nullopt);
}

}  // namespace
}  // namespace finfuse::data
