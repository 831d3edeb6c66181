#include "finfuse/data/samples.h"

#include "finfuse/data/splits.h"
#include "support/shared_data.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>

namespace finfuse::data {
namespace {

// One symbol on the given days, adjusted close 100, 100 + step, ...
PricePanel series_on(const std::vector<Date>& days, const std::string& symbol = "A", double step = 1.0) {
  PriceSeries s;
  s.symbol = symbol;
  for (std::size_t i = 0; i < days.size(); ++i) {
    const double p = 100.0 + step * static_cast<double>(i);
    s.dates.push_back(days[i]);
    s.open.push_back(p);
    s.high.push_back(p + 1);
    s.low.push_back(p - 1);
    s.close.push_back(p);
    s.adj_close.push_back(p);
    s.volume.push_back(1000);
  }
  PricePanel panel;
  panel.add(s);
  return panel;
}

std::vector<Date> weekdays(Date first, Date last) {
  std::vector<Date> out;
  for (Date d = first; d <= last; d = d + 1) {
    if (d.weekday() != 0 && d.weekday() != 6) {
      out.push_back(d);
    }
  }
  return out;
}

// One symbol, ten consecutive weekdays from Monday 2015-01-05 to Friday 2015-01-16 (no holidays).
PricePanel ten_days(const std::string& symbol = "A", double step = 1.0) {
  return series_on(weekdays(Date::from_ymd(2015, 1, 5), Date::from_ymd(2015, 1, 16)), symbol, step);
}

TEST(SampleRecord, KeepsItsInstantsToTheSecondAndItsUnboundedEnds) {
  const Timestamp decision = *parse_timestamp("1927-03-01T14:30:00Z");
  const Date day = Date::from_ymd(1927, 3, 1);
  const Timestamp min(std::numeric_limits<std::int64_t>::min());
  const Timestamp max(std::numeric_limits<std::int64_t>::max());
  Sample sample;
  EXPECT_EQ(sample.time(), Timestamp());
  EXPECT_EQ(sample.label_time(), Timestamp());
  // 67 years either side of the decision, to the second.
  const std::int64_t far = std::int64_t{67} * 365 * 86400 + 1;
  sample.set_instants(day, decision, decision + far, decision + (-far), decision + (-7));
  EXPECT_EQ(sample.day, day);
  EXPECT_EQ(sample.time(), decision);
  EXPECT_EQ(sample.label_time(), decision + far);
  EXPECT_EQ(sample.text_start(), decision + (-far));
  EXPECT_EQ(sample.text_cutoff(), decision + (-7));
  sample.set_instants(day, decision, max, min, decision);
  EXPECT_EQ(sample.label_time(), max);
  EXPECT_EQ(sample.text_start(), min);
  EXPECT_EQ(sample.text_cutoff(), decision);
  // A decision on another day than its own (an Asian session's open, the evening before in UTC) keeps its instant.
  const Timestamp evening_before = decision + (-15 * 3600);
  sample.set_instants(day, evening_before, decision, decision + (-86400), evening_before);
  EXPECT_EQ(sample.day, day);
  EXPECT_EQ(sample.time(), evening_before);
  EXPECT_EQ(sample.label_time(), decision);
  EXPECT_EQ(sample.text_start(), decision + (-86400));
  sample.set_instants(day, decision, max, min, decision);
  // 68 years away is refused, and the record keeps what it had.
  const std::int64_t too_far = std::int64_t{1} << 31;
  for (const Timestamp bad : {decision + too_far, decision + (-too_far), Timestamp(std::numeric_limits<std::int64_t>::max() - 1)}) {
    try {
      sample.set_instants(day + 1, decision + 1, bad, decision, decision);
      ADD_FAILURE() << "accepted " << bad.seconds();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("a sample's label time"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("68 years or more from its decision (1927-03-01T14:30:01Z)"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(sample.day, day);
  EXPECT_EQ(sample.time(), decision);
  EXPECT_EQ(sample.label_time(), max);
  EXPECT_THROW(sample.set_instants(day, Timestamp(std::numeric_limits<std::int64_t>::min() + 5), decision, decision, decision),
               Error);
  // The decision is kept as seconds from the start of its day: 68 years from it is refused, naming the day.
  try {
    sample.set_instants(day, decision + too_far, max, min, decision + too_far);
    ADD_FAILURE() << "accepted a decision 68 years after its day";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a sample's decision"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("the start of its day 1927-03-01"), std::string::npos) << e.what();
  }
  EXPECT_EQ(sample.time(), decision);
}

TEST(Assembly, OpenDecisionUsesBarsBeforeTheDayAndLabelsTheDaysClose) {
  AssemblyOptions options;
  options.price_window = 3;
  options.label.kind = "return";
  const SampleSet set = assemble_samples(ten_days(), options);
  // Days 0..2 lack a full window before them (day 3 is the first with bars 0..2 behind it).
  ASSERT_EQ(set.samples.size(), 7u);
  EXPECT_EQ(set.report.short_history, 3);
  const Sample& first = set.samples[0];
  EXPECT_EQ(first.day, Date::from_ymd(2015, 1, 8));
  EXPECT_EQ(first.last_bar, 2);
  EXPECT_EQ(first.target_bar, 3);
  EXPECT_EQ(first.time(), *parse_timestamp("2015-01-08T14:30:00Z"));
  EXPECT_EQ(first.label_time(), *parse_timestamp("2015-01-08T21:00:00Z"));
  EXPECT_FLOAT_EQ(first.forward_return, static_cast<float>(103.0 / 102.0 - 1.0));
  EXPECT_FLOAT_EQ(first.target, static_cast<float>(103.0 / 102.0 - 1.0));
  // Texts: after the close of the bar five days before the window's last bar, if there is one, up to the open.
  EXPECT_EQ(first.text_cutoff(), first.time());
  EXPECT_LT(first.text_start().seconds(), 0);
}

TEST(Assembly, CloseDecisionIncludesTheDayAndHorizonCounts) {
  AssemblyOptions options;
  options.decision = "close";
  options.price_window = 2;
  options.label.kind = "return";
  options.label.horizon = 3;
  options.label.return_type = "log";
  const SampleSet set = assemble_samples(ten_days(), options);
  // Decision days 1..6: a window needs day 0, a label needs three bars ahead.
  ASSERT_EQ(set.samples.size(), 6u);
  EXPECT_EQ(set.report.no_future, 3);
  EXPECT_EQ(set.samples[0].last_bar, 1);
  EXPECT_EQ(set.samples[0].target_bar, 4);
  EXPECT_FLOAT_EQ(set.samples[0].forward_return, static_cast<float>(std::log(104.0 / 101.0)));
}

TEST(Assembly, DirectionThresholdsAndDeadZone) {
  LabelOptions label;
  label.up_threshold = 0.0055;
  label.down_threshold = -0.005;
  EXPECT_EQ(direction_label(0.006, label), 1.0f);
  EXPECT_EQ(direction_label(0.0055, label), std::nullopt);  // up means strictly above
  EXPECT_EQ(direction_label(-0.005, label), 0.0f);           // down includes the threshold
  EXPECT_EQ(direction_label(0.0, label), std::nullopt);
  AssemblyOptions options;
  options.price_window = 1;
  options.label = label;
  // Returns of about +1% per day: every sample is "up".
  const SampleSet up = assemble_samples(ten_days("A", 1.0), options);
  ASSERT_FALSE(up.samples.empty());
  for (const auto& s : up.samples) {
    EXPECT_EQ(s.target, 1.0f);
  }
  // Returns of about +0.3% per day: all in the dead zone.
  const SampleSet flat = assemble_samples(ten_days("A", 0.3), options);
  EXPECT_TRUE(flat.samples.empty());
  EXPECT_EQ(flat.report.dead_zone, 9);
}

TEST(Assembly, CrossSectionalLabels) {
  PricePanel panel;
  for (const auto& [symbol, step] : std::vector<std::pair<std::string, double>>{{"A", 1.0}, {"B", 2.0}, {"C", -1.0}}) {
    panel.add(ten_days(symbol, step).series(symbol));
  }
  AssemblyOptions options;
  options.price_window = 1;
  options.label.kind = "rank";
  const SampleSet ranked = assemble_samples(panel, options);
  ASSERT_EQ(ranked.samples.size(), 27u);
  // Per day the order is C < A < B.
  EXPECT_EQ(ranked.samples[0].entity, 0);
  EXPECT_FLOAT_EQ(ranked.samples[0].target, 0.5f);
  EXPECT_FLOAT_EQ(ranked.samples[1].target, 1.0f);
  EXPECT_FLOAT_EQ(ranked.samples[2].target, 0.0f);
  options.label.kind = "excess_return";
  const SampleSet excess = assemble_samples(panel, options);
  double day_sum = 0;
  for (int k = 0; k < 3; ++k) {
    day_sum += excess.samples[static_cast<std::size_t>(k)].target;
  }
  EXPECT_NEAR(day_sum, 0.0, 1e-6);
  // Kept as one mean a day: each target is its forward return minus its day's mean, computed here in double.
  EXPECT_EQ(excess.samples.target_kind(), SampleList::TargetKind::excess_return);
  ASSERT_EQ(excess.samples.size(), 27u);
  for (std::size_t d = 0; d < 9; ++d) {
    double mean = 0.0;
    for (std::size_t k = 3 * d; k < 3 * d + 3; ++k) {
      ASSERT_EQ(excess.samples.day(k), excess.samples.day(3 * d));
      mean += static_cast<double>(excess.samples.forward_return(k)) / 3.0;
    }
    for (std::size_t k = 3 * d; k < 3 * d + 3; ++k) {
      EXPECT_NEAR(excess.samples.target(k), static_cast<double>(excess.samples.forward_return(k)) - mean, 1e-7) << k;
    }
  }
  EXPECT_EQ(percentile_ranks({3.0, 1.0, 3.0, 2.0}), (std::vector<double>{5.0 / 6.0, 0.0, 5.0 / 6.0, 1.0 / 3.0}));
}

TEST(LookaheadGuard, RejectsLeakyConfigurations) {
  const PricePanel panel = ten_days();
  AssemblyOptions leaky_window;
  leaky_window.price_window = 3;
  leaky_window.include_decision_day = true;  // the day's own bar, at its open: a leak
  try {
    assemble_samples(panel, leaky_window);
    FAIL() << "a window including the decision day's bar at the open was accepted";
  } catch (const LookaheadError& e) {
    EXPECT_NE(std::string(e.what()).find("lookahead in sample A 2015-01-07"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("price window ends with the bar of 2015-01-07"), std::string::npos);
  }
  AssemblyOptions leaky_text;
  leaky_text.price_window = 3;
  leaky_text.text.cutoff_offset_seconds = 3600;  // texts from the first hour of trading
  EXPECT_THROW(assemble_samples(panel, leaky_text), LookaheadError);
  AssemblyOptions delayed = leaky_text;
  delayed.text.cutoff_offset_seconds = -3600;  // a delayed feed is fine
  EXPECT_NO_THROW(assemble_samples(panel, delayed));
  AssemblyOptions at_close;
  at_close.decision = "close";
  at_close.include_decision_day = true;
  EXPECT_NO_THROW(assemble_samples(panel, at_close));
}


// Enough entities for the assembly to go a few days at a time: every entity starts, ends and misses days of its own, and
// the samples still come by day and, on a day, by entity, each with its own bars and label.
TEST(Assembly, ManyEntitiesComeInDecisionOrderWithTheirOwnBars) {
  const std::vector<Date> days = weekdays(Date::from_ymd(2015, 1, 5), Date::from_ymd(2015, 6, 30));
  PricePanel panel;
  constexpr int kEntities = 3000;
  for (int e = 0; e < kEntities; ++e) {
    PriceSeries s;
    s.symbol = fmt::format("S{:04d}", e);
    for (std::size_t d = static_cast<std::size_t>(e % 7); d + static_cast<std::size_t>(e % 5) < days.size(); ++d) {
      if ((d + static_cast<std::size_t>(e)) % 11 == 0) {
        continue;  // a missing day
      }
      const double p = 50.0 + static_cast<double>(e % 13) + 0.25 * static_cast<double>(d % 17);
      s.dates.push_back(days[d]);
      for (auto* column : {&s.open, &s.high, &s.low, &s.close, &s.adj_close}) {
        column->push_back(p);
      }
      s.volume.push_back(1000);
    }
    panel.add(s);
  }
  AssemblyOptions options;
  options.price_window = 3;
  options.label.kind = "return";
  options.market.calendar.exchange("none");  // every weekday a session
  const SampleSet set = assemble_samples(panel, options);
  ASSERT_GT(set.samples.day_runs(), 30u) << "more days than one block holds";
  std::size_t expected = 0;
  for (int e = 0; e < kEntities; ++e) {
    // Decisions at the open of every bar after the window's first three (the bar itself gives the label).
    expected += panel.series(set.entities[static_cast<std::size_t>(e)]).size() - 3;
  }
  ASSERT_EQ(set.samples.size(), expected);
  for (std::size_t i = 0; i < set.samples.size(); ++i) {
    const Sample s = set.samples[i];
    if (i > 0) {
      const Sample before = set.samples[i - 1];
      ASSERT_TRUE(before.day < s.day || (before.day == s.day && before.entity < s.entity)) << i;
    }
    const PriceSeries& series = panel.series(set.entities[static_cast<std::size_t>(s.entity)]);
    const auto bar = static_cast<std::size_t>(s.last_bar);
    ASSERT_EQ(series.dates[bar + 1], s.day) << i;
    ASSERT_EQ(s.target_bar, s.last_bar + 1) << i;
    ASSERT_FLOAT_EQ(s.target, static_cast<float>(static_cast<double>(series.close[bar + 1]) / series.close[bar] - 1.0)) << i;
  }
}

std::optional<Sample> on(const SampleSet& set, Date day) {
  for (const Sample s : set.samples) {
    if (s.day == day) {
      return s;
    }
  }
  return std::nullopt;
}

// NYSE's calendar (the default in New York): a bar on Good Friday is left out of the panel, so it is no decision day,
// no window bar and no label base; a one-day label counts sessions, so a gap in an entity's bars gives no label
// instead of a two-day return.
TEST(Assembly, ExchangeCalendarSessionsAndHorizons) {
  AssemblyOptions options;
  options.price_window = 2;
  options.label.kind = "return";
  // Every weekday from 2024-03-25 to 2024-04-12: a vendor's row on Good Friday (2024-03-29), and no bar on
  // Wednesday 2024-04-03.
  auto days = weekdays(Date::from_ymd(2024, 3, 25), Date::from_ymd(2024, 4, 12));
  days.erase(std::find(days.begin(), days.end(), Date::from_ymd(2024, 4, 3)));
  const auto panel = series_on(days);
  // Assembling the raw panel would count Good Friday's bar as a session in windows and labels: refused, naming it.
  try {
    assemble_samples(panel, options);
    FAIL() << "a panel with a bar on Good Friday was assembled on NYSE's sessions";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'A' has a bar on 2024-03-29 (Good Friday)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sessions_only"), std::string::npos) << e.what();
  }
  std::int64_t removed = -1;
  const PricePanel sessions_panel = sessions_only(panel, options.market, &removed);
  EXPECT_EQ(removed, 1);
  const PriceSeries& a = sessions_panel.series("A");
  ASSERT_EQ(a.size(), days.size() - 1);
  EXPECT_EQ(std::count(a.dates.begin(), a.dates.end(), Date::from_ymd(2024, 3, 29)), 0);
  EXPECT_EQ(a.dates[4], Date::from_ymd(2024, 4, 1));
  EXPECT_EQ(a.close[4], 105.0) << "the remaining bars keep their own prices";
  const SampleSet nyse = assemble_samples(sessions_panel, options);
  EXPECT_FALSE(on(nyse, Date::from_ymd(2024, 3, 29)).has_value()) << "Good Friday is not a session";
  // At Monday 2024-04-01's open the window is Wednesday's and Thursday's bars, and the label runs from Thursday's
  // close (103) to Monday's (105): Good Friday's row is in neither.
  const std::optional<Sample> monday = on(nyse, Date::from_ymd(2024, 4, 1));
  ASSERT_TRUE(monday.has_value());
  EXPECT_EQ(a.dates[static_cast<std::size_t>(monday->last_bar)], Date::from_ymd(2024, 3, 28));
  EXPECT_EQ(a.dates[static_cast<std::size_t>(monday->last_bar - 1)], Date::from_ymd(2024, 3, 27));
  EXPECT_EQ(a.dates[static_cast<std::size_t>(monday->target_bar)], Date::from_ymd(2024, 4, 1));
  EXPECT_FLOAT_EQ(monday->forward_return, static_cast<float>(105.0 / 103.0 - 1.0));
  // At Thursday 2024-04-04's open the last close is Tuesday's; one session later is Wednesday, which has no bar.
  EXPECT_EQ(nyse.report.missing_target, 1);
  EXPECT_FALSE(on(nyse, Date::from_ymd(2024, 4, 4)).has_value());
  const std::optional<Sample> tuesday = on(nyse, Date::from_ymd(2024, 4, 2));
  ASSERT_TRUE(tuesday.has_value());
  EXPECT_EQ(a.dates[static_cast<std::size_t>(tuesday->target_bar)], Date::from_ymd(2024, 4, 2));

  // Without a calendar the data's dates are the sessions: Good Friday's row is a decision day, and Thursday's label
  // spans two sessions.
  options.market.calendar.exchange("none");
  EXPECT_EQ(sessions_only(panel, options.market, &removed).rows(), panel.rows());
  EXPECT_EQ(removed, 0);
  const SampleSet plain = assemble_samples(panel, options);
  EXPECT_EQ(plain.report.missing_target, 0);
  EXPECT_TRUE(on(plain, Date::from_ymd(2024, 3, 29)).has_value());
  const std::optional<Sample> thursday = on(plain, Date::from_ymd(2024, 4, 4));
  ASSERT_TRUE(thursday.has_value());
  EXPECT_FLOAT_EQ(thursday->forward_return, static_cast<float>(1.0 / (100.0 + 6.0)));  // from Tuesday's close (bar 6) to Thursday's

  // A horizon of two sessions over Good Friday, on the exchange's sessions only: Thursday 2024-03-28's open looks from
  // Wednesday's close to Monday's.
  auto sessions = weekdays(Date::from_ymd(2024, 3, 25), Date::from_ymd(2024, 4, 5));
  sessions.erase(std::find(sessions.begin(), sessions.end(), Date::from_ymd(2024, 3, 29)));
  options.market.calendar.exchange("NYSE");
  options.label.horizon = 2;
  const SampleSet two = assemble_samples(series_on(sessions), options);
  const std::optional<Sample> before_easter = on(two, Date::from_ymd(2024, 3, 28));
  ASSERT_TRUE(before_easter.has_value());
  EXPECT_EQ(sessions[static_cast<std::size_t>(before_easter->target_bar)], Date::from_ymd(2024, 4, 1));
  EXPECT_EQ(two.report.missing_target, 0);
}

// Early closes move every close instant: a decision at the close of the day after Thanksgiving is at 13:00, a text
// published at 13:30 that day is after it, and a label ending that day is known at 13:00.
TEST(Assembly, EarlyClosesMoveDecisionsCutOffsAndLabels) {
  AssemblyOptions options;
  options.price_window = 1;
  options.decision = "close";
  options.label.kind = "return";
  auto days = weekdays(Date::from_ymd(2024, 11, 25), Date::from_ymd(2024, 12, 3));
  days.erase(std::find(days.begin(), days.end(), Date::from_ymd(2024, 11, 28)));  // Thanksgiving
  const SampleSet set = assemble_samples(series_on(days), options);
  const std::optional<Sample> friday = on(set, Date::from_ymd(2024, 11, 29));
  ASSERT_TRUE(friday.has_value());
  EXPECT_EQ(friday->time(), *parse_timestamp("2024-11-29T18:00:00Z"));
  EXPECT_EQ(friday->text_cutoff(), friday->time());
  EXPECT_LT(friday->text_cutoff(), *parse_timestamp("2024-11-29T18:30:00Z"));
  const std::optional<Sample> wednesday = on(set, Date::from_ymd(2024, 11, 27));
  ASSERT_TRUE(wednesday.has_value());
  EXPECT_EQ(wednesday->label_time(), *parse_timestamp("2024-11-29T18:00:00Z")) << "the label closes at the early close";
  options.market.calendar.exchange("none");
  EXPECT_EQ(on(assemble_samples(series_on(days), options), Date::from_ymd(2024, 11, 29))->time(),
            *parse_timestamp("2024-11-29T21:00:00Z"));
}

TEST(AssemblyOptions, JsonRoundTripAndErrors) {
  const auto options = AssemblyOptions::from_config(Config::parse(R"({
    "decision": "open", "price_window": 5, "start": "2014-01-01", "end": "2015-12-31",
    "label": {"kind": "direction", "up_threshold": 0.0055, "down_threshold": -0.005},
    "market": {"timezone": "America/New_York"}, "text": {"lookback_days": 5, "max_texts": 30}
  })"));
  EXPECT_EQ(AssemblyOptions::from_config(Config(options.to_json())).to_json(), options.to_json());
  const auto error = [](const std::string& text) -> std::string {
    try {
      AssemblyOptions::from_config(Config::parse(text, "a.json"));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error(R"({"start": "2015-13-01"})"), "a.json: /start: expected a date \"YYYY-MM-DD\", got \"2015-13-01\"");
  EXPECT_EQ(error(R"({"start": "2015-02-01", "end": "2015-01-01"})"),
            "a.json: /end: must not be before start (2015-02-01), got 2015-01-01");
  EXPECT_EQ(error(R"({"label": {"up_threshold": -0.01, "down_threshold": 0.01}})"),
            "a.json: /label/down_threshold: must be <= up_threshold (-0.01), got 0.01");
  EXPECT_EQ(error(R"({"label": {"horizon": 0}})"), "a.json: /label/horizon: must be >= 1, got 0");
  EXPECT_EQ(error(R"({"decision": "noon"})").rfind("a.json: /decision: 'noon' is not one of 'open', 'close'", 0), 0u);
}

// StockNet (Xu & Cohen 2018): movement of the adjusted close from d-1 to d, <= -0.5% down, > 0.55% up, lag 5,
// target days 2014-01-01..2015-12-31, split by date. The paper reports 20,339 / 2,555 / 3,720 samples.
TEST(AssemblyRealData, StockNetSampleCountsMatchThePaper) {
  FINFUSE_REQUIRE_SHARED_DATA(path, "stocknet/prices.csv");
  const PricePanel panel = PricePanel::load_csv(path);
  AssemblyOptions options;
  options.decision = "open";
  options.price_window = 5;
  options.start = "2014-01-01";
  options.end = "2015-12-31";
  options.label.up_threshold = 0.0055;
  options.label.down_threshold = -0.005;
  const SampleSet set = assemble_samples(panel, options);
  const Split split = chronological_split(set.samples, Date::from_ymd(2015, 8, 1), Date::from_ymd(2015, 10, 1),
                                          Date::from_ymd(2016, 1, 1));
  const auto within = [](std::size_t ours, double published) {
    return std::abs(static_cast<double>(ours) - published) / published <= 0.005;
  };
  EXPECT_TRUE(within(split.train.size(), 20339)) << split.train.size();
  EXPECT_TRUE(within(split.valid.size(), 2555)) << split.valid.size();
  EXPECT_TRUE(within(split.test.size(), 3720)) << split.test.size();
  std::printf("StockNet samples (train / dev / test): %zu / %zu / %zu; published 20339 / 2555 / 3720\n",
              split.train.size(), split.valid.size(), split.test.size());
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

TEST(Assembly, LabelsFromAGivenColumn) {
  const PricePanel panel = ten_days();
  const auto dir = std::filesystem::temp_directory_path() / "finfuse_label_column_test";
  std::filesystem::create_directories(dir);
  // Analyst-adjusted outcomes for two target days; the second is published a week late.
  std::ofstream(dir / "outcomes.csv") << "symbol,date,available_at,outcome\n"
                                      << "A,2015-01-08,2015-01-08T22:00:00Z,0.25\n"
                                      << "A,2015-01-09,2015-01-16,-0.5\n";
  NumericTableOptions table_options;
  table_options.available_column = "available_at";
  const NumericTable outcomes = NumericTable::load_csv(dir / "outcomes.csv", table_options);
  AssemblyOptions options;
  options.price_window = 3;
  options.label.kind = "column";
  options.label.table = "outcomes";
  options.label.column = "outcome";
  const SampleSet set = assemble_samples(panel, options, &outcomes);
  ASSERT_EQ(set.samples.size(), 2u);
  EXPECT_EQ(set.report.no_label, 5);
  EXPECT_FLOAT_EQ(set.samples[0].target, 0.25f);
  EXPECT_EQ(set.samples[0].label_time(), *parse_timestamp("2015-01-08T22:00:00Z"));
  EXPECT_EQ(set.samples[1].label_time(), *parse_timestamp("2015-01-17T00:00:00Z"));
  // Inference keeps the days without a label row: unknown target, the label's instant that of the target's close.
  const SampleSet all = assemble_samples(panel, options, &outcomes, SampleMode::inference);
  ASSERT_EQ(all.samples.size(), set.samples.size() + static_cast<std::size_t>(set.report.no_label));
  std::size_t unlabeled = 0;
  for (const Sample& sample : all.samples) {
    if (std::isnan(sample.target)) {
      ++unlabeled;
      EXPECT_GT(sample.label_time(), sample.time());
    }
  }
  EXPECT_EQ(unlabeled, static_cast<std::size_t>(set.report.no_label));
  EXPECT_THROW(assemble_samples(panel, options, nullptr), Error);
  options.label.column = "absent";
  EXPECT_THROW(assemble_samples(panel, options, &outcomes), Error);
  EXPECT_THROW(LabelOptions::from_config(Config::parse(R"({"kind": "column", "table": "t"})")), ConfigError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse::data
