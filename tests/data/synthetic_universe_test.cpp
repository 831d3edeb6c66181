// The synthetic universe: files finfuse reads back, the same draws for a seed, minute bars that add up to the day's
// bar, the oracle's IC against its closed form, and a model that finds the planted text signal.
#include "finfuse/data/synthetic_universe.h"

#include "finfuse/data/price_panel.h"
#include "finfuse/data/relation_graph.h"
#include "finfuse/data/text_corpus.h"
#include "finfuse/training/experiment.h"
#include "finfuse/training/run_config.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace finfuse::data {
namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SyntheticUniverseTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = ::finfuse::testing::unique_temp_dir("finfuse_universe_test"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SyntheticUniverseTest, FilesReadBackAndMinuteBarsAddUpToTheDay) {
  const auto options = UniverseOptions().stocks(12).years(0.25).sectors(3).peers(2).minute_days(3).seed(11);
  const auto report = generate_universe(options, dir_ / "a");
  // A quarter of a year from 2005-01-03: the 65 weekdays to Friday 2005-04-01 less Martin Luther King Day, Presidents'
  // Day and Good Friday.
  EXPECT_EQ(report.first, Date::from_ymd(2005, 1, 3));
  EXPECT_EQ(report.last, Date::from_ymd(2005, 4, 1));
  EXPECT_EQ(report.sessions, 62);
  EXPECT_EQ(report.bars, 12 * report.sessions);
  EXPECT_EQ(report.edges, 12 * 2);
  EXPECT_EQ(report.minute_bars, 12 * 3 * 390);

  const PricePanel prices = PricePanel::load_csv(dir_ / "a" / "prices.csv");
  EXPECT_EQ(prices.size(), 12u);
  EXPECT_EQ(prices.rows(), report.bars);
  const auto corpus = TextCorpus::load_jsonl(dir_ / "a" / "texts.jsonl");
  EXPECT_EQ(corpus.report().texts, report.texts);
  EXPECT_NEAR(static_cast<double>(report.texts) / static_cast<double>(report.bars), 0.3, 0.08);
  // Peers share a sector: stock S<k> is in sector (k - 1) mod 3.
  const auto graph = RelationGraph::load(dir_ / "a" / "graph.csv");
  EXPECT_GE(graph.edges().size(), static_cast<std::size_t>(report.edges));
  for (const auto& edge : graph.edges()) {
    EXPECT_EQ((std::stoi(edge.source.substr(1)) - 1) % 3, (std::stoi(edge.target.substr(1)) - 1) % 3)
        << edge.source << " - " << edge.target;
    EXPECT_EQ(edge.relation, "sector_peer");
  }

  // Every bar is consistent (low <= open, close <= high), and on the minute days the day's bar is the minute bars'
  // aggregate: the first open, the last close, the highest high and the lowest low.
  for (const auto& symbol : prices.symbols()) {
    const auto& s = prices.series(symbol);
    for (std::size_t i = 0; i < s.size(); ++i) {
      EXPECT_LE(s.low[i], std::min(s.open[i], s.close[i])) << symbol << " " << s.dates[i].to_string();
      EXPECT_GE(s.high[i], std::max(s.open[i], s.close[i])) << symbol << " " << s.dates[i].to_string();
    }
  }
  struct Day {
    double open = 0, high = -1e300, low = 1e300, close = 0;
    int bars = 0;
  };
  std::map<std::pair<std::string, std::string>, Day> days;
  std::ifstream minute(dir_ / "a" / "minute.csv");
  std::string line;
  std::getline(minute, line);
  EXPECT_EQ(line, "symbol,time,open,high,low,close,volume");
  while (std::getline(minute, line)) {
    std::stringstream fields(line);
    std::string symbol, time, open, high, low, close;
    std::getline(fields, symbol, ',');
    std::getline(fields, time, ',');
    std::getline(fields, open, ',');
    std::getline(fields, high, ',');
    std::getline(fields, low, ',');
    std::getline(fields, close, ',');
    Day& d = days[{symbol, time.substr(0, 10)}];
    if (d.bars++ == 0) {
      d.open = std::stod(open);
    }
    d.high = std::max(d.high, std::stod(high));
    d.low = std::min(d.low, std::stod(low));
    d.close = std::stod(close);
  }
  ASSERT_EQ(days.size(), 12u * 3u);
  for (const auto& [key, d] : days) {
    EXPECT_EQ(d.bars, 390);
    const auto& s = prices.series(key.first);
    const auto i = s.index_of(*parse_date(key.second));
    ASSERT_TRUE(i.has_value()) << key.second;
    EXPECT_GE(*i, s.size() - 3);
    EXPECT_EQ(s.open[*i], static_cast<float>(d.open)) << key.first << " " << key.second;
    EXPECT_EQ(s.close[*i], static_cast<float>(d.close));
    EXPECT_EQ(s.high[*i], static_cast<float>(d.high));
    EXPECT_EQ(s.low[*i], static_cast<float>(d.low));
  }

  // The same seed gives the same bytes; another seed other draws.
  generate_universe(options, dir_ / "b");
  generate_universe(UniverseOptions(options).seed(12), dir_ / "c");
  for (const char* file : {"prices.csv", "texts.jsonl", "graph.csv", "minute.csv", "truth.json"}) {
    EXPECT_EQ(read_all(dir_ / "a" / file), read_all(dir_ / "b" / file)) << file;
  }
  EXPECT_NE(read_all(dir_ / "a" / "prices.csv"), read_all(dir_ / "c" / "prices.csv"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "a" / "prices.csv.tmp"));
}

// With no market or sector moves, a session's cross-section of log returns is s + e with s = a*sigma*z, z = +-1 with
// probability p (0 otherwise): corr(s, s + e) = a*sqrt(p) / sqrt(1 + a^2 p), and s holds a^2 p / (1 + a^2 p) of the
// variance.
TEST_F(SyntheticUniverseTest, OracleIcMatchesItsClosedForm) {
  const double a = 0.6;
  const double p = 0.4;
  const auto report = generate_universe(UniverseOptions()
                                            .stocks(300)
                                            .years(1)
                                            .sectors(5)
                                            .market_volatility(0)
                                            .sector_volatility(0)
                                            .texts_per_day(p)
                                            .text_signal(a)
                                            .seed(3),
                                        dir_ / "u");
  const double expected = a * std::sqrt(p) / std::sqrt(1.0 + a * a * p);
  // The returns are simple returns of prices rounded to 1e-4: a hair below the log-return correlation.
  EXPECT_NEAR(report.oracle_ic, expected, 0.01) << "expected " << expected;
  EXPECT_NEAR(report.share_of_variance, a * a * p / (1.0 + a * a * p), 0.01);
  EXPECT_GT(report.oracle_rank_ic, 0.5 * expected);

  const auto none = generate_universe(UniverseOptions().stocks(100).years(0.5).text_signal(0).seed(3), dir_ / "n");
  EXPECT_NEAR(none.oracle_ic, 0.0, 0.03);
  EXPECT_THROW(generate_universe(UniverseOptions().stocks(3).sectors(4), dir_ / "x"), Error);
  EXPECT_THROW(generate_universe(UniverseOptions().start("2015-13-01"), dir_ / "x"), Error);
}

// The run configuration written with the universe trains a price + text model that finds the planted signal: its
// test Rank IC reaches a good part of the oracle's.
TEST_F(SyntheticUniverseTest, AModelFindsThePlantedSignal) {
  const auto report = generate_universe(
      UniverseOptions().stocks(40).years(1.5).sectors(4).texts_per_day(0.5).text_signal(1.0).seed(5), dir_ / "u");
  auto run = training::RunConfig::load(dir_ / "u" / "run.json");
  run.training.progress("none");
  const auto result = training::Experiment(run, training::ExperimentOptions(dir_ / "run")).run();
  const double rank_ic = result.metrics.at("test").at("rank_ic").get<double>();
  std::cout << fmt::format("test rank IC {:.4f}, oracle {:.4f}\n", rank_ic, report.oracle_rank_ic);
  EXPECT_GT(rank_ic, 0.5 * report.oracle_rank_ic) << result.metrics.dump(2);
}

}  // namespace
}  // namespace finfuse::data
