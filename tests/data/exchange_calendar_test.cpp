#include "finfuse/data/exchange_calendar.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace finfuse::data {
namespace {

Date day(const std::string& text) { return *parse_date(text); }

std::set<std::string> days_of(int year, const std::string& kind) {
  std::set<std::string> out;
  for (const auto& e : nyse_events(year)) {
    if (e.kind == kind) {
      out.insert(e.date.to_string());
    }
  }
  return out;
}

std::set<std::string> closed_days(int year) { return days_of(year, "closed"); }
std::set<std::string> early_days(int year) { return days_of(year, "early_close"); }

// NYSE's published holiday and early-close schedules (nyse.com, "Holidays & Trading Hours", and its archived
// schedules for past years).
TEST(ExchangeCalendar, NyseRulesReproduceThePublishedSchedules) {
  EXPECT_EQ(closed_days(2015), (std::set<std::string>{"2015-01-01", "2015-01-19", "2015-02-16", "2015-04-03",
                                                      "2015-05-25", "2015-07-03", "2015-09-07", "2015-11-26",
                                                      "2015-12-25"}));
  EXPECT_EQ(early_days(2015), (std::set<std::string>{"2015-11-27", "2015-12-24"}));
  EXPECT_EQ(closed_days(2016), (std::set<std::string>{"2016-01-01", "2016-01-18", "2016-02-15", "2016-03-25",
                                                      "2016-05-30", "2016-07-04", "2016-09-05", "2016-11-24",
                                                      "2016-12-26"}));
  EXPECT_EQ(early_days(2016), (std::set<std::string>{"2016-11-25"}));
  EXPECT_EQ(closed_days(2012), (std::set<std::string>{"2012-01-02", "2012-01-16", "2012-02-20", "2012-04-06",
                                                      "2012-05-28", "2012-07-04", "2012-09-03", "2012-10-29",
                                                      "2012-10-30", "2012-11-22", "2012-12-25"}));
  EXPECT_EQ(early_days(2012), (std::set<std::string>{"2012-07-03", "2012-11-23", "2012-12-24"}));
  // 2021: Christmas on a Saturday is observed on Friday the 24th; New Year's Day 2022, also a Saturday, is not made
  // up on Friday 2021-12-31; no Juneteenth before 2022.
  EXPECT_EQ(closed_days(2021), (std::set<std::string>{"2021-01-01", "2021-01-18", "2021-02-15", "2021-04-02",
                                                      "2021-05-31", "2021-07-05", "2021-09-06", "2021-11-25",
                                                      "2021-12-24"}));
  EXPECT_EQ(early_days(2021), (std::set<std::string>{"2021-11-26"}));
  EXPECT_EQ(closed_days(2022), (std::set<std::string>{"2022-01-17", "2022-02-21", "2022-04-15", "2022-05-30",
                                                      "2022-06-20", "2022-07-04", "2022-09-05", "2022-11-24",
                                                      "2022-12-26"}));
  EXPECT_EQ(early_days(2022), (std::set<std::string>{"2022-11-25"}));
  EXPECT_EQ(closed_days(2023), (std::set<std::string>{"2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07",
                                                      "2023-05-29", "2023-06-19", "2023-07-04", "2023-09-04",
                                                      "2023-11-23", "2023-12-25"}));
  EXPECT_EQ(early_days(2023), (std::set<std::string>{"2023-07-03", "2023-11-24"}));
  EXPECT_EQ(closed_days(2024), (std::set<std::string>{"2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29",
                                                      "2024-05-27", "2024-06-19", "2024-07-04", "2024-09-02",
                                                      "2024-11-28", "2024-12-25"}));
  EXPECT_EQ(early_days(2024), (std::set<std::string>{"2024-07-03", "2024-11-29", "2024-12-24"}));
  EXPECT_EQ(closed_days(2025), (std::set<std::string>{"2025-01-01", "2025-01-09", "2025-01-20", "2025-02-17",
                                                      "2025-04-18", "2025-05-26", "2025-06-19", "2025-07-04",
                                                      "2025-09-01", "2025-11-27", "2025-12-25"}));
  EXPECT_EQ(early_days(2025), (std::set<std::string>{"2025-07-03", "2025-11-28", "2025-12-24"}));
}

TEST(ExchangeCalendar, SessionsAroundHolidays) {
  const ExchangeCalendar nyse;
  EXPECT_FALSE(nyse.is_session(day("2024-07-04")));
  EXPECT_EQ(nyse.closure(day("2024-07-04")), std::optional<std::string>("Independence Day"));
  EXPECT_FALSE(nyse.is_session(day("2024-07-06")));  // a Saturday
  EXPECT_FALSE(nyse.closure(day("2024-07-06")).has_value());
  EXPECT_EQ(nyse.early_close(day("2024-07-03")), std::optional<std::int64_t>(13 * 3600));
  EXPECT_FALSE(nyse.early_close(day("2024-07-05")).has_value());
  EXPECT_EQ(nyse.next_session(day("2024-03-28")), day("2024-04-01"));  // Good Friday, then the weekend
  EXPECT_EQ(nyse.previous_session(day("2024-04-01")), day("2024-03-28"));
  EXPECT_EQ(nyse.next_session(day("2012-10-26")), day("2012-10-31"));  // Hurricane Sandy
  // StockNet's test quarter, 2015-10-01 .. 2015-12-31: 64 sessions (92 days, 26 weekend days, Thanksgiving and
  // Christmas).
  EXPECT_EQ(nyse.sessions(day("2015-10-01"), day("2015-12-31")).size(), 64U);
  // Every year's trading days: 252 in 2015, 251 in 2022, 250 in 2023, 252 in 2024.
  EXPECT_EQ(nyse.sessions(day("2015-01-01"), day("2015-12-31")).size(), 252U);
  EXPECT_EQ(nyse.sessions(day("2022-01-01"), day("2022-12-31")).size(), 251U);
  EXPECT_EQ(nyse.sessions(day("2023-01-01"), day("2023-12-31")).size(), 250U);
  EXPECT_EQ(nyse.sessions(day("2024-01-01"), day("2024-12-31")).size(), 252U);
}

TEST(ExchangeCalendar, ClosuresFromAFileAndTheirErrors) {
  const auto dir = std::filesystem::temp_directory_path() / "finfuse_exchange_calendar";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "extra.csv") << "date,kind,close,description\n"
                                      "2030-03-04,closed,,a market-wide outage\n"
                                      "2030-03-05,early_close,12:30,half day\n";
  const ExchangeCalendar calendar(ExchangeCalendarOptions().file(dir / "extra.csv"));
  EXPECT_EQ(calendar.closure(day("2030-03-04")), std::optional<std::string>("a market-wide outage"));
  EXPECT_EQ(calendar.early_close(day("2030-03-05")), std::optional<std::int64_t>(12 * 3600 + 30 * 60));
  EXPECT_FALSE(calendar.is_session(day("2030-12-25")));  // NYSE's rules still apply
  const ExchangeCalendar only_file(ExchangeCalendarOptions().exchange("none").file(dir / "extra.csv"));
  EXPECT_TRUE(only_file.is_session(day("2030-12-25")));
  EXPECT_FALSE(only_file.is_session(day("2030-03-04")));
  std::ofstream(dir / "bad.csv") << "date,kind\n2030-03-04,shut\n";
  try {
    ExchangeCalendar bad(ExchangeCalendarOptions().file(dir / "bad.csv"));
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 2);
    EXPECT_EQ(e.field(), "kind");
  }
  std::ofstream(dir / "bad_date.csv") << "2030-02-30,closed\n";
  EXPECT_THROW(ExchangeCalendar(ExchangeCalendarOptions().file(dir / "bad_date.csv")), DataError);
  EXPECT_THROW(ExchangeCalendar(ExchangeCalendarOptions().file(dir / "absent.csv")), IoError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse::data
