// Metrics against independent references: scikit-learn on the same predictions (files written by
// tests/parity/metric_references.py) and hand-computed cases (IC, ECE, hit rate, the long-short backtest).
#include "finfuse/evaluation/backtest.h"
#include "finfuse/evaluation/metric.h"

#include "finfuse/core/error.h"
#include "support/parity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace finfuse::evaluation {
namespace {

PredictionRows read_case(const std::filesystem::path& path, std::int64_t classes) {
  PredictionRows rows;
  rows.classes = classes;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string field;
    std::vector<double> values;
    while (std::getline(fields, field, ',')) {
      values.push_back(std::stod(field));
    }
    if (classes > 0) {
      std::vector<double> probs(values.begin() + 1, values.end());
      double score = 0.0;
      for (std::size_t c = 0; c < probs.size(); ++c) {
        score += static_cast<double>(c) * probs[c];
      }
      rows.append_row(0, static_cast<std::int64_t>(rows.size()), values[0], std::nan(""), probs,
                      classes == 2 ? probs[1] : score);
    } else {
      rows.append_row(0, static_cast<std::int64_t>(rows.size()), values[0], std::nan(""), {}, values[1]);
    }
  }
  return rows;
}

void expect_sklearn_values(const std::string& name, std::int64_t classes, const std::vector<std::string>& metrics) {
  const auto dir = testing::parity_dir() / "metrics";
  const auto rows = read_case(dir / (name + ".csv"), classes);
  Json expected;
  std::ifstream(dir / (name + ".json")) >> expected;
  MetricSet set(metrics, classes);
  const auto& data = rows;
  const MetricResult result = [&] {
    MetricResult out;
    for (const auto& m : metrics) {
      auto r = make_metric(Config(Json(m)))->compute(data);
      out.values.insert(r.values.begin(), r.values.end());
      if (!r.details.empty()) {
        out.details[m] = r.details;
      }
    }
    return out;
  }();
  std::size_t compared = 0;
  for (const auto& [key, value] : expected.items()) {
    if (key == "confusion_matrix") {
      EXPECT_EQ(result.details.at("confusion_matrix").at("matrix"), value) << name;
      continue;
    }
    ASSERT_TRUE(result.values.count(key)) << name << ": finfuse does not report " << key;
    EXPECT_NEAR(result.values.at(key), value.get<double>(), 1e-9) << name << ": " << key;
    ++compared;
  }
  EXPECT_GE(compared, 5U);
  std::printf("%s: %zu metric values match scikit-learn\n", name.c_str(), compared);
}

TEST(MetricParity, BinaryClassificationMatchesScikitLearn) {
  FINFUSE_REQUIRE_PARITY_FILES("metrics/binary.json");
  expect_sklearn_values("binary", 2,
                        {"accuracy", "balanced_accuracy", "mcc", "log_loss", "precision", "recall", "f1", "roc_auc",
                         "pr_auc", "brier", "ks", "gini", "confusion_matrix"});
}

TEST(MetricParity, MulticlassClassificationMatchesScikitLearn) {
  FINFUSE_REQUIRE_PARITY_FILES("metrics/multiclass.json");
  expect_sklearn_values("multiclass", 3,
                        {"accuracy", "balanced_accuracy", "mcc", "log_loss", "precision", "recall", "f1", "roc_auc",
                         "pr_auc", "confusion_matrix"});
}

TEST(MetricParity, RegressionMatchesScikitLearn) {
  FINFUSE_REQUIRE_PARITY_FILES("metrics/regression.json");
  expect_sklearn_values("regression", 0, {"mse", "rmse", "mae", "r2", "mape"});
}

PredictionRows scores(const std::vector<std::int32_t>& days, const std::vector<std::int64_t>& entities,
                      const std::vector<double>& score, const std::vector<double>& returns) {
  PredictionRows rows;
  for (std::size_t i = 0; i < score.size(); ++i) {
    rows.append_row(days[i], entities[i], returns[i], returns[i], {}, score[i]);
  }
  return rows;
}

TEST(FinanceMetrics, IcAndRankIcByHand) {
  // Day 1: corr([1, 2, 3], [.01, .03, .02]) = 0.01 / sqrt(2 * 0.0002) = 0.5, and the ranks agree as much.
  // Day 2: scores exactly reversed against returns: -1.
  const auto rows = scores({1, 1, 1, 2, 2, 2}, {0, 1, 2, 0, 1, 2}, {1, 2, 3, 3, 2, 1},
                           {0.01, 0.03, 0.02, 0.01, 0.02, 0.03});
  const auto ic = make_metric(Config(Json("ic")))->compute(rows);
  EXPECT_NEAR(ic.values.at("ic"), (0.5 - 1.0) / 2.0, 1e-12);
  const double sd = std::sqrt((0.75 * 0.75 + 0.75 * 0.75) / 1.0);
  EXPECT_NEAR(ic.values.at("icir"), -0.25 / sd, 1e-12);
  EXPECT_EQ(ic.values.at("ic.days"), 2.0);
  const auto rank = make_metric(Config(Json("rank_ic")))->compute(rows);
  EXPECT_NEAR(rank.values.at("rank_ic"), -0.25, 1e-12);
  EXPECT_EQ(rank.details.at("per_day").size(), 2U);
  // Days with too few samples are skipped.
  const auto strict = make_metric(Config::parse(R"({"type": "ic", "min_samples": 4})"))->compute(rows);
  EXPECT_EQ(strict.values.at("ic.days"), 0.0);
}

TEST(FinanceMetrics, HitRateByHand) {
  PredictionRows rows;
  rows.classes = 2;
  // P(up) 0.7 with +1%: hit; 0.6 with -1%: miss; 0.2 with -2%: hit; 0.4 with 0: not counted.
  rows.append_row(1, 0, 1, 0.01, {0.3, 0.7}, 0.7);
  rows.append_row(1, 1, 0, -0.01, {0.4, 0.6}, 0.6);
  rows.append_row(1, 2, 0, -0.02, {0.8, 0.2}, 0.2);
  rows.append_row(1, 3, 0, 0.0, {0.6, 0.4}, 0.4);
  EXPECT_NEAR(make_metric(Config(Json("hit_rate")))->compute(rows).values.at("hit_rate"), 2.0 / 3.0, 1e-12);
}

TEST(ClassificationMetrics, ExpectedCalibrationErrorByHand) {
  PredictionRows rows;
  rows.classes = 2;
  // Confidence of the predicted class: .92 (right), .78 (wrong), .67 (right), .54 (wrong); one per bin.
  rows.append_row(0, 0, 1, std::nan(""), {0.08, 0.92}, 0.92);
  rows.append_row(0, 1, 0, std::nan(""), {0.22, 0.78}, 0.78);
  rows.append_row(0, 2, 0, std::nan(""), {0.67, 0.33}, 0.33);
  rows.append_row(0, 3, 1, std::nan(""), {0.54, 0.46}, 0.46);
  const auto r = make_metric(Config(Json("ece")))->compute(rows);
  EXPECT_NEAR(r.values.at("ece"), (0.08 + 0.78 + 0.33 + 0.54) / 4.0, 1e-12);
  EXPECT_EQ(r.details.at("bins").size(), 4U);
}

TEST(Backtest, ThreeAssetsByHand) {
  // Entities A=0, B=1, C=2 over four days; one name per leg, 10 bp per unit of turnover.
  const auto rows = scores({1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4}, {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
                           {0.9, 0.5, 0.1, 0.2, 0.8, 0.5, 0.3, 0.7, 0.1, 0.9, 0.1, 0.5},
                           {0.02, 0.0, -0.01, 0.01, 0.03, 0.0, 0.0, -0.02, -0.04, -0.01, 0.01, 0.0});
  BacktestOptions options;
  options.top = 1;
  options.cost_bps = 10;
  const auto r = run_backtest(rows, options);
  ASSERT_EQ(r.days.size(), 4U);
  // Day 1: long A, short C: 0.02 + 0.01 = 0.03; entering costs 2 x 10 bp.
  // Day 2: long B, short A: 0.03 - 0.01 = 0.02; turnover A 2, B 1, C 1 = 4.
  // Day 3: long B, short C: -0.02 + 0.04 = 0.02; turnover C 1, A 1 = 2.
  // Day 4: long A, short B: -0.01 - 0.01 = -0.02; turnover A 1, B 2, C 1 = 4.
  const std::vector<double> gross = {0.03, 0.02, 0.02, -0.02};
  const std::vector<double> turnover = {2, 4, 2, 4};
  std::vector<double> net;
  for (std::size_t d = 0; d < 4; ++d) {
    EXPECT_NEAR(r.days[d].gross, gross[d], 1e-12) << d;
    EXPECT_NEAR(r.days[d].turnover, turnover[d], 1e-12) << d;
    net.push_back(gross[d] - turnover[d] * 0.001);
    EXPECT_NEAR(r.days[d].net, net[d], 1e-12) << d;
  }
  const double equity = (1 + net[0]) * (1 + net[1]) * (1 + net[2]) * (1 + net[3]);
  EXPECT_NEAR(r.total_return, equity - 1, 1e-12);
  EXPECT_NEAR(r.annual_return, std::pow(equity, 252.0 / 4.0) - 1, 1e-9);
  const double mean = (net[0] + net[1] + net[2] + net[3]) / 4;
  double ss = 0;
  for (const double x : net) {
    ss += (x - mean) * (x - mean);
  }
  const double sd = std::sqrt(ss / 3);
  EXPECT_NEAR(r.volatility, sd * std::sqrt(252.0), 1e-12);
  EXPECT_NEAR(r.sharpe, mean / sd * std::sqrt(252.0), 1e-9);
  EXPECT_NEAR(r.sortino, mean / std::sqrt(net[3] * net[3] / 4) * std::sqrt(252.0), 1e-9);
  EXPECT_NEAR(r.max_drawdown, -net[3], 1e-12);  // the only fall, from the peak after day 3
  EXPECT_NEAR(r.calmar, r.annual_return / -net[3], 1e-9);
  EXPECT_NEAR(r.turnover, 3.0, 1e-12);
  const double bench = (1 + 0.01 / 3) * (1 + 0.04 / 3) * (1 - 0.06 / 3) * 1.0;
  EXPECT_NEAR(r.benchmark_total_return, bench - 1, 1e-12);
  // Per entity: A long day 1 (+.02) and day 4 (-.01), short day 2 (-.01): .00; B long days 2-3 (+.03 -.02), short
  // day 4 (-.01): .00; C short days 1 and 3 (+.01 +.04): .05.
  ASSERT_EQ(r.entities.size(), 3U);
  EXPECT_NEAR(r.entities[0].contribution, 0.0, 1e-12);
  EXPECT_EQ(r.entities[0].days_long, 2);
  EXPECT_EQ(r.entities[0].days_short, 1);
  EXPECT_NEAR(r.entities[1].contribution, 0.0, 1e-12);
  EXPECT_NEAR(r.entities[2].contribution, 0.05, 1e-12);
  EXPECT_EQ(r.to_json()["per_day"].size(), 4U);
  // Through the metric registry, with the options by name.
  const auto metric = make_metric(Config::parse(R"({"type": "backtest", "top": 1, "cost_bps": 10})"))->compute(rows);
  EXPECT_NEAR(metric.values.at("backtest.sharpe"), r.sharpe, 1e-12);
}

TEST(Backtest, MarketTimingOfOneAssetByHand) {
  // One asset: long above 0.5, short below; the benchmark holds it.
  const auto rows = scores({1, 2, 3, 4}, {0, 0, 0, 0}, {0.7, 0.3, 0.6, 0.4}, {0.01, -0.02, 0.03, 0.01});
  BacktestOptions options;
  options.kind = "timing";
  options.cost_bps = 10;
  const auto r = run_backtest(rows, options);
  ASSERT_EQ(r.days.size(), 4U);
  // Positions +1, -1, +1, -1: gross .01, .02, .03, -.01; turnover 1 (entering), then 2 at every flip.
  const std::vector<double> gross = {0.01, 0.02, 0.03, -0.01}, turnover = {1, 2, 2, 2};
  double equity = 1.0;
  for (std::size_t d = 0; d < 4; ++d) {
    EXPECT_NEAR(r.days[d].gross, gross[d], 1e-12) << d;
    EXPECT_NEAR(r.days[d].turnover, turnover[d], 1e-12) << d;
    equity *= 1.0 + gross[d] - turnover[d] * 0.001;
  }
  EXPECT_NEAR(r.total_return, equity - 1.0, 1e-12);
  EXPECT_NEAR(r.benchmark_total_return, 1.01 * 0.98 * 1.03 * 1.01 - 1.0, 1e-12);
  EXPECT_NEAR(r.days.back().benchmark_equity, 1.01 * 0.98 * 1.03 * 1.01, 1e-12);
  // Long only: flat instead of short; every second day only (non-overlapping two-day returns).
  options.long_only = true;
  options.every = 2;
  options.cost_bps = 0;
  const auto sparse = run_backtest(rows, options);
  ASSERT_EQ(sparse.days.size(), 2U);
  EXPECT_NEAR(sparse.total_return, 1.01 * 1.03 - 1.0, 1e-12);
}

TEST(Metrics, ClearErrorsAndDirections) {
  PredictionRows values;
  values.append_row(0, 0, 1.0, 0.0, {}, 0.5);
  EXPECT_THROW(make_metric(Config(Json("accuracy")))->compute(values), Error);
  PredictionRows classes;
  classes.classes = 2;
  classes.append_row(0, 0, 2.0, 0.0, {0.5, 0.5}, 0.5);
  EXPECT_THROW(make_metric(Config(Json("accuracy")))->compute(classes), Error);  // target 2 of 2 classes
  EXPECT_THROW(make_metric(Config(Json("mse")))->compute(classes), Error);
  EXPECT_THROW(make_metric(Config(Json("accuracy")))->compute(PredictionRows{}), Error);
  try {
    make_metric(Config(Json("acuracy")));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'accuracy'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_metric(Config::parse(R"({"type": "backtest", "top": 1.5})")), ConfigError);
  EXPECT_THROW(make_metric(Config::parse(R"({"type": "ece", "bins": 10, "x": 1})")), ConfigError);
  EXPECT_TRUE(higher_is_better("accuracy"));
  EXPECT_TRUE(higher_is_better("backtest.sharpe"));
  EXPECT_FALSE(higher_is_better("log_loss"));
  EXPECT_FALSE(higher_is_better("loss"));
  EXPECT_FALSE(higher_is_better("backtest.max_drawdown"));
  EXPECT_FALSE(higher_is_better("valid.mse"));
}

TEST(Metrics, SetCollectsBatchesFromLogits) {
  MetricSet set(default_metrics("classification"), 2);
  data::Batch batch;
  batch.target = torch::tensor({1.0F, 0.0F, 1.0F, 0.0F});
  batch.day = torch::tensor({5, 5, 6, 6}, torch::kInt32);
  batch.entity = torch::tensor({0, 1, 0, 1}, torch::kInt64);
  batch.forward_return = torch::tensor({0.01F, -0.01F, 0.02F, 0.01F});
  const auto logits = torch::tensor({{0.0F, 2.0F}, {1.0F, 0.0F}, {0.0F, -1.0F}, {2.0F, 0.0F}});
  set.update(logits, batch.target, batch);
  set.update(logits, batch.target, batch);
  EXPECT_EQ(set.rows().size(), 8U);
  const auto result = set.compute();
  EXPECT_NEAR(result.values.at("accuracy"), 0.75, 1e-12);
  EXPECT_NEAR(set.rows().score[0], 1.0 / (1.0 + std::exp(-2.0)), 1e-9);
  EXPECT_EQ(set.rows().day[2], 6);
  set.reset();
  EXPECT_EQ(set.rows().size(), 0U);
  EXPECT_THROW(set.update(torch::zeros({4, 3}), batch.target, batch), ShapeError);

  // Metrics given as option objects keep their names: their details are keyed "backtest" and "ece".
  MetricSet configured({Config::parse(R"({"type": "backtest", "top": 1})"), Config::parse(R"({"type": "ece", "bins": 4})")},
                       2);
  configured.update(logits, batch.target, batch);
  const auto details = configured.compute().details;
  EXPECT_TRUE(details.contains("backtest")) << details.dump();
  EXPECT_TRUE(details.contains("ece")) << details.dump();
}

TEST(Metrics, OptionsAreDeclaredFields) {
  // What a metric writes is what it reads back, with "type".
  for (const char* text : {R"({"type": "ece", "bins": 15})", R"({"type": "rank_ic", "min_samples": 5})",
                           R"({"type": "backtest", "top": 3.0})"}) {
    const Json written = make_metric(Config::parse(text))->options_json();
    EXPECT_EQ(make_metric(Config(written))->options_json(), written) << text;
    EXPECT_EQ(written["type"], Json::parse(text)["type"]);
  }
  EXPECT_EQ(make_metric(Config(Json("mcc")))->options_json(), (Json{{"type", "mcc"}}));
  // The registry describes them: no options for most, declared fields for the others.
  ASSERT_TRUE(metric_registry().fields("mcc").has_value());
  EXPECT_TRUE(metric_registry().fields("mcc")->empty());
  ASSERT_TRUE(metric_registry().fields("ece").has_value());
  EXPECT_EQ(metric_registry().fields("ece")->front().name, "bins");
  EXPECT_EQ(metric_registry().fields("ic")->front().name, "min_samples");
  EXPECT_EQ(metric_registry().fields("backtest")->size(), BacktestOptions::fields().size());
  try {
    make_metric(Config::parse(R"({"type": "rank_ic", "min_samples": 1})", "metrics.json"));
    FAIL() << "min_samples 1 was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "metrics.json: /min_samples: must be >= 2, got 1");
  }
}

}  // namespace
}  // namespace finfuse::evaluation
