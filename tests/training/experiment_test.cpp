// Experiments on generated data through the whole pipeline: several seeds as mean +- std, walk-forward windows with
// concatenated out-of-sample predictions, and cross-sectional training with graph fusion and a ranking loss.
#include "finfuse/training/experiment.h"

#include "finfuse/core/random.h"
#include "finfuse/data/time.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <set>

namespace finfuse::training {
namespace {

class ExperimentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = finfuse::testing::unique_temp_dir("finfuse_experiment");
    // Six stocks over 170 weekdays; each day's return continues a third of the previous one's, plus noise.
    std::mt19937_64 rng(5);
    std::normal_distribution<double> noise(0.0, 0.01);
    std::ofstream prices(dir_ / "prices.csv");
    prices << "symbol,date,open,high,low,close,adj_close,volume\n";
    for (const char* symbol : {"AAA", "BBB", "CCC", "DDD", "EEE", "FFF"}) {
      double p = 50.0, r = 0.0;
      data::Date day = data::Date::from_ymd(2016, 1, 4);
      for (int i = 0; i < 170; ++i) {
        while (day.weekday() == 0 || day.weekday() == 6) {
          day = day + 1;
        }
        r = 0.35 * r + noise(rng);
        p *= 1.0 + r;
        prices << symbol << ',' << day.to_string() << ',' << p << ',' << p * 1.01 << ',' << p * 0.99 << ',' << p << ','
               << p << ",1000\n";
        day = day + 1;
      }
    }
    prices.close();
    std::ofstream credit(dir_ / "credit.csv");
    credit << "id,x1,x2,defaulted\n";
    std::normal_distribution<double> normal;
    for (int i = 0; i < 300; ++i) {
      const double x1 = normal(rng), x2 = normal(rng);
      credit << i << ',' << x1 << ',' << x2 << ',' << (x1 + 0.5 * x2 + 0.8 * normal(rng) > 0 ? 1 : 0) << '\n';
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  data::DataConfig data_config(const std::string& json) const {
    return data::DataConfig::from_config(Config::parse(json), dir_);
  }

  static TrainerOptions trainer(const std::string& json) {
    auto j = Json::parse(json);
    j["progress"] = "none";
    return TrainerOptions::from_config(Config(j));
  }

  std::filesystem::path dir_;
};

TEST_F(ExperimentTest, SeedsAreSummarisedAsMeanAndSpread) {
  const auto pipeline = data::DataPipeline::build(data_config(R"({
    "tables": {"credit": {"path": "credit.csv", "kind": "static", "entity_column": "id", "label_column": "defaulted"}},
    "samples_from_table": "credit",
    "split": {"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.2, "seed": 3},
    "dataset": {"modalities": ["numeric"]}})"));
  const auto model = Config::parse(R"({"encoders": {"numeric": {"type": "mlp", "layers": [8], "dropout": 0.2}},
                                       "heads": {"default": {"type": "classification"}}})");
  const auto result = run_seeds(model, trainer(R"({"epochs": 4, "optimizer": {"type": "adam", "lr": 0.02},
                                                   "monitor": "valid.roc_auc"})"),
                                pipeline, c10::Device(c10::DeviceType::CPU), {1, 2, 3});
  ASSERT_EQ(result.seeds.size(), 3U);
  EXPECT_EQ(result.test_summary.runs, 3);
  const double mean = result.test_summary.mean.at("roc_auc");
  EXPECT_GT(mean, 0.7);
  EXPECT_GE(mean, result.test_summary.min.at("roc_auc"));
  EXPECT_LE(mean, result.test_summary.max.at("roc_auc"));
  EXPECT_GT(result.test_summary.std.at("accuracy") + result.test_summary.std.at("roc_auc"), 0.0)
      << "different seeds give different models";
  double by_hand = 0.0;
  for (const auto& run : result.test) {
    by_hand += run.at("roc_auc") / 3.0;
  }
  EXPECT_NEAR(mean, by_hand, 1e-12);
  EXPECT_EQ(result.to_json()["runs"].size(), 3U);
  EXPECT_GT(result.test_summary.mean.at("latency_p99_ms"), 0.0);
  EXPECT_GE(result.test_summary.mean.at("latency_p99_ms"), result.test_summary.mean.at("latency_p50_ms"));
  EXPECT_GT(result.test_summary.mean.at("peak_memory_mb"), 1.0);
  EXPECT_NE(result.test_summary.table().find("roc_auc"), std::string::npos);
}

TEST_F(ExperimentTest, WalkForwardConcatenatesOutOfSamplePredictions) {
  const auto data = data_config(R"({
    "prices": {"path": "prices.csv"},
    "assembly": {"price_window": 5},
    "split": {"kind": "walk_forward", "walk_forward": {"train_days": 60, "valid_days": 10, "test_days": 25,
                                                       "embargo_days": 1}},
    "dataset": {"modalities": ["price"]}})");
  const auto model = Config::parse(R"({"encoders": {"price": {"type": "rnn", "cell": "gru", "hidden": 8}},
                                       "heads": {"direction": {"type": "classification"}}})");
  const auto result = run_walk_forward(model, trainer(R"({"epochs": 2, "batch_size": 64})"), data,
                                       c10::Device(c10::DeviceType::CPU), 7);
  ASSERT_GE(result.windows.size(), 3U);
  std::int64_t total = 0;
  for (std::size_t k = 0; k < result.windows.size(); ++k) {
    const auto& w = result.windows[k];
    EXPECT_LT(w.train_end, w.test_start) << "fold " << k;
    if (k > 0) {
      EXPECT_LT(result.windows[k - 1].test_end, w.test_start) << "test windows do not overlap";
    }
    total += w.test_samples;
    EXPECT_TRUE(w.test.count("accuracy"));
  }
  EXPECT_EQ(static_cast<std::int64_t>(result.predictions.size()), total);
  EXPECT_TRUE(std::is_sorted(result.predictions.day.begin(), result.predictions.day.end()));
  EXPECT_TRUE(result.overall.count("accuracy"));
  EXPECT_EQ(result.per_window.runs, static_cast<std::int64_t>(result.windows.size()));
  EXPECT_EQ(result.to_json()["windows"].size(), result.windows.size());
}

TEST_F(ExperimentTest, DecisionsOnEveryNthTradingDay) {
  const auto every_day = data::DataPipeline::build(data_config(R"({"prices": {"path": "prices.csv"},
      "assembly": {"price_window": 5}, "split": {"valid_start": "2016-06-01", "test_start": "2016-07-01"}})"));
  const auto every_fifth = data::DataPipeline::build(data_config(R"({"prices": {"path": "prices.csv"},
      "assembly": {"price_window": 5, "every": 5}, "split": {"valid_start": "2016-06-01", "test_start": "2016-07-01"}})"));
  std::set<std::int32_t> all_days, fifth_days;
  for (const auto& s : every_day.samples().samples) {
    all_days.insert(s.day.days());
  }
  for (const auto& s : every_fifth.samples().samples) {
    fifth_days.insert(s.day.days());
  }
  // The same days for all six stocks, one in five of the panel's trading days.
  EXPECT_EQ(every_fifth.samples().samples.size(), fifth_days.size() * 6);
  EXPECT_NEAR(static_cast<double>(fifth_days.size()), static_cast<double>(all_days.size()) / 5.0, 1.0);
  for (const auto day : fifth_days) {
    EXPECT_TRUE(all_days.count(day));
  }
}

TEST_F(ExperimentTest, CrossSectionalGraphFusionWithARankingLoss) {
  const auto pipeline = data::DataPipeline::build(data_config(R"({
    "prices": {"path": "prices.csv"},
    "assembly": {"price_window": 5, "label": {"kind": "rank"}},
    "split": {"valid_start": "2016-06-01", "test_start": "2016-07-01"},
    "dataset": {"modalities": ["price"], "graph": {"kind": "correlation", "lookback": 20, "threshold": 0.0}}})"));
  const auto model = Config::parse(R"({"encoders": {"price": {"type": "rnn", "hidden": 8}},
      "fusion": {"type": "graph", "layer": "gat", "heads": 2, "hidden": 8},
      "heads": {"score": {"type": "ranking", "loss": "listnet"}}})");
  auto o = trainer(R"({"epochs": 2, "batching": "cross_sectional", "monitor": "valid.rank_ic",
                       "metrics": ["ic", "rank_ic", {"type": "backtest", "top": 1}]})");
  const auto run = train_and_evaluate(model, o, pipeline, c10::Device(c10::DeviceType::CPU), 11);
  ASSERT_EQ(run.fit.history.size(), 2U);
  EXPECT_TRUE(run.test.values.count("rank_ic"));
  EXPECT_TRUE(run.test.values.count("backtest.sharpe"));
  EXPECT_TRUE(std::isfinite(run.test.values.at("loss")));
  // Graph fusion refuses batches that mix days.
  o.batching("shuffled");
  EXPECT_THROW(train_and_evaluate(model, o, pipeline, c10::Device(c10::DeviceType::CPU), 11), ConfigError);
}

}  // namespace
}  // namespace finfuse::training
