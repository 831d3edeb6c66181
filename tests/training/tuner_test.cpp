// Hyper-parameter search: the trials a search space draws (grid, random, Sobol as LibTorch's SobolEngine draws it),
// JSON-pointer assignments, configuration errors at their path; on a synthetic problem with a known optimum, the
// search finds it and successive halving keeps the right trials; a crashed search continues where it stopped; with
// the trainer, trials resume between rungs and score the validation part only, never the test part.
#include "finfuse/training/tuner.h"

#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/random.h"
#include "finfuse/evaluation/metric.h"
#include "finfuse/training/experiment.h"
#include "finfuse/training/run_config.h"

#include "support/credit_data.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <stdexcept>

namespace finfuse::training {
namespace {

TuneOptions options(const std::string& json) { return TuneOptions::from_config(Config::parse(json, "search.json")); }

std::string config_error(const std::string& json) {
  try {
    options(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SearchSpace, GridRandomAndSobolTrials) {
  const auto grid = SearchSpace(options(R"({"search": "grid", "grid_points": 3, "parameters": {
      "/training/optimizer/lr": {"low": 1e-4, "high": 1e-2, "scale": "log"},
      "/model/encoders/price/hidden": {"values": [8, 16]}}})"))
                        .assignments();
  ASSERT_EQ(grid.size(), 6U);
  // Pointers in order, the last one varying fastest.
  EXPECT_EQ(grid[0]["/model/encoders/price/hidden"], 8);
  EXPECT_NEAR(grid[0]["/training/optimizer/lr"].get<double>(), 1e-4, 1e-12);
  EXPECT_EQ(grid[1]["/model/encoders/price/hidden"], 8);
  EXPECT_NEAR(grid[1]["/training/optimizer/lr"].get<double>(), 1e-3, 1e-12);
  EXPECT_NEAR(grid[2]["/training/optimizer/lr"].get<double>(), 1e-2, 1e-12);
  EXPECT_EQ(grid[3]["/model/encoders/price/hidden"], 16);
  EXPECT_NEAR(grid[3]["/training/optimizer/lr"].get<double>(), 1e-4, 1e-12);
  EXPECT_EQ(grid[5]["/model/encoders/price/hidden"], 16);
  EXPECT_NEAR(grid[5]["/training/optimizer/lr"].get<double>(), 1e-2, 1e-12);

  // Integers round, and the grid keeps each value once.
  const auto integers =
      SearchSpace(options(R"({"search": "grid", "grid_points": 5, "parameters": {
                                "/training/batch_size": {"low": 1, "high": 3, "integer": true}}})"))
          .assignments();
  ASSERT_EQ(integers.size(), 3U);
  EXPECT_EQ(integers[1]["/training/batch_size"], 2);
  EXPECT_TRUE(integers[1]["/training/batch_size"].is_number_integer());

  const std::string random = R"({"search": "random", "trials": 50, "seed": 7, "parameters": {
      "/a": {"low": -1.0, "high": 2.0}, "/b": {"low": 10, "high": 20, "integer": true}}})";
  const auto first = SearchSpace(options(random)).assignments();
  ASSERT_EQ(first.size(), 50U);
  EXPECT_EQ(first, SearchSpace(options(random)).assignments());  // the seed decides
  std::set<std::int64_t> seen;
  for (const auto& a : first) {
    EXPECT_GE(a["/a"].get<double>(), -1.0);
    EXPECT_LE(a["/a"].get<double>(), 2.0);
    seen.insert(a["/b"].get<std::int64_t>());
  }
  EXPECT_EQ(*seen.begin(), 10);
  EXPECT_EQ(*seen.rbegin(), 20);

  // torch.quasirandom.SobolEngine(2).draw(4): [0, 0], [0.5, 0.5], [0.75, 0.25], [0.25, 0.75].
  const auto sobol = SearchSpace(options(R"({"search": "sobol", "trials": 4, "parameters": {
      "/x": {"low": 0.0, "high": 8.0}, "/y": {"low": 0.0, "high": 8.0}}})"))
                         .assignments();
  const std::vector<std::pair<double, double>> expected = {{0, 0}, {4, 4}, {6, 2}, {2, 6}};
  ASSERT_EQ(sobol.size(), 4U);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(sobol[i]["/x"].get<double>(), expected[i].first) << i;
    EXPECT_DOUBLE_EQ(sobol[i]["/y"].get<double>(), expected[i].second) << i;
  }
}

TEST(SearchSpace, AssignmentsAndErrors) {
  const auto base = Json::parse(R"({"training": {"epochs": 3, "optimizer": {"type": "adam"}}, "model": {}})");
  const auto applied =
      SearchSpace::apply(base, Json{{"/training/optimizer/lr", 0.01}, {"/model/fusion/dropout", 0.2}});
  EXPECT_EQ(applied["training"]["optimizer"], (Json{{"type", "adam"}, {"lr", 0.01}}));
  EXPECT_EQ(applied["model"]["fusion"]["dropout"], 0.2);  // a missing parent is created
  EXPECT_EQ(applied["training"]["epochs"], 3);
  try {
    SearchSpace::apply(base, Json{{"/training/epochs/value", 1}});
    FAIL() << "set a key under a number";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/training/epochs/value: cannot set it: /training/epochs"), std::string::npos)
        << e.what();
  }
  // Array elements by index.
  const auto layers = SearchSpace::apply(Json{{"layers", {8, 8}}}, Json{{"/layers/1", 32}});
  EXPECT_EQ(layers["layers"], (Json{8, 32}));
  EXPECT_THROW(SearchSpace::apply(Json{{"layers", {8}}}, Json{{"/layers/5", 32}}), ConfigError);

  EXPECT_NE(config_error(R"({"parameters": {}})").find("/parameters: must map at least one JSON pointer"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"parameters": {"training/lr": {"values": [1]}}})").find("is not a JSON pointer"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"parameters": {"/lr": {"low": 2, "high": 1}}})").find("expected low < high"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"parameters": {"/lr": {"low": 0, "high": 1, "scale": "log"}}})")
                .find("a log scale needs low > 0"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"parameters": {"/lr": {"low": 0, "high": 1, "step": 2}}})").find("unknown key 'step'"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"parameters": {"/lr": {"values": []}}})").find("/values: must list at least one"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"search": "bayes", "parameters": {"/lr": {"values": [1]}}})").find("/search"),
            std::string::npos);
}

// A synthetic problem: the validation score of (lr, hidden) after e epochs is a learning curve that saturates at
// 1 - (log10(lr) + 2.5)^2 / 4 - ((hidden - 24) / 40)^2, best at lr = 10^-2.5, hidden = 24.
class SyntheticRunner : public TrialRunner {
 public:
  std::int64_t max_epochs(const Json&) const override { return 9; }
  std::string monitor(const Json&) const override { return "valid.score"; }
  bool higher_is_better(const Json&) const override { return true; }
  TrialProgress run(const Json& config, std::int64_t epochs, const std::filesystem::path&) override {
    if (fail_after >= 0 && calls >= fail_after) {
      throw std::runtime_error("the machine went away");
    }
    ++calls;
    runs_to[epochs] += 1;
    const double lr = config["training"]["optimizer"]["lr"].get<double>();
    const double hidden = config["model"]["hidden"].get<double>();
    const double ceiling =
        1.0 - std::pow(std::log10(lr) + 2.5, 2) / 4.0 - std::pow((hidden - 24.0) / 40.0, 2);
    return TrialProgress{epochs, ceiling * (1.0 - std::exp(-static_cast<double>(epochs) / 3.0)), epochs >= 9};
  }
  std::int64_t calls = 0;
  std::int64_t fail_after = -1;
  std::map<std::int64_t, std::int64_t> runs_to;
};

const Json kBase = Json::parse(R"({"training": {"optimizer": {"type": "adam"}}, "model": {"hidden": 8}})");

TEST(Tune, FindsTheOptimumOfASyntheticProblemWithHalving) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_tune_synthetic");
  const auto search = options(R"({"search": "sobol", "trials": 32, "halving": {"min_epochs": 1, "reduction": 3},
      "parameters": {"/training/optimizer/lr": {"low": 1e-5, "high": 1e-1, "scale": "log"},
                     "/model/hidden": {"values": [8, 16, 24, 32, 64]}}})");
  SyntheticRunner runner;
  const auto result = tune(kBase, search, dir, runner);
  EXPECT_EQ(result.rungs, (std::vector<std::int64_t>{1, 3, 9}));
  // 32 trials train 1 epoch; the best 10 go on to 3, the best 3 of those to 9.
  EXPECT_EQ(runner.runs_to, (std::map<std::int64_t, std::int64_t>{{1, 32}, {3, 10}, {9, 3}}));
  const auto& best = result.trials.at(static_cast<std::size_t>(result.best));
  EXPECT_EQ(best.status, "finished");
  EXPECT_EQ(result.best_config["model"]["hidden"], 24);
  EXPECT_LT(std::abs(std::log10(result.best_config["training"]["optimizer"]["lr"].get<double>()) + 2.5), 0.5);
  std::int64_t stopped = 0;
  for (const auto& t : result.trials) {
    stopped += t.status == "stopped" ? 1 : 0;
  }
  EXPECT_EQ(stopped, 29);
  EXPECT_NE(tune_report_html(result, search, "synthetic").find("(best)"), std::string::npos);

  // A grid that holds the optimum finds it exactly.
  SyntheticRunner grid_runner;
  const auto grid = tune(kBase, options(R"({"search": "grid", "parameters": {
      "/training/optimizer/lr": {"values": [1e-4, 0.0031622776601683794, 1e-2]},
      "/model/hidden": {"values": [16, 24, 32]}}})"),
                         dir / "grid", grid_runner);
  EXPECT_EQ(grid_runner.runs_to, (std::map<std::int64_t, std::int64_t>{{9, 9}}));
  EXPECT_EQ(grid.best_config["model"]["hidden"], 24);
  EXPECT_DOUBLE_EQ(grid.best_config["training"]["optimizer"]["lr"].get<double>(), 0.0031622776601683794);
  std::filesystem::remove_all(dir);
}

// Every trial scores the same value (as when several predict one class and their MCC is 0); the validation loss of
// trial i is |i - 5| + 1, so trial 5 has the lowest, then 4 and 6, then 3 and 7.
class TiedRunner : public TrialRunner {
 public:
  std::int64_t max_epochs(const Json&) const override { return 4; }
  std::string monitor(const Json&) const override { return "valid.mcc"; }
  bool higher_is_better(const Json&) const override { return true; }
  TrialProgress run(const Json& config, std::int64_t epochs, const std::filesystem::path&) override {
    const auto id = config["model"]["hidden"].get<std::int64_t>();
    runs_to[epochs].push_back(id);
    TrialProgress progress{epochs, 0.0, epochs >= 4};
    if (id != 9) {  // trial 9 reports no loss: it ranks after every trial that does
      progress.loss = static_cast<double>(std::abs(id - 5) + 1);
    }
    return progress;
  }
  std::map<std::int64_t, std::vector<std::int64_t>> runs_to;
};

TEST(Tune, TiedValuesGoToTheLowerValidationLoss) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_tune_ties");
  const auto search = options(R"({"search": "grid", "halving": {"min_epochs": 1, "reduction": 2},
      "parameters": {"/model/hidden": {"values": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}}})");
  TiedRunner runner;
  const auto result = tune(kBase, search, dir, runner);
  EXPECT_EQ(result.rungs, (std::vector<std::int64_t>{1, 2, 4}));
  // Ten trials to 1 epoch; the 5 lowest losses (5; 4, 6; 3, 7) to 2; the 2 lowest of those (5, then 4 before 6 by
  // search order) to 4.
  EXPECT_EQ(runner.runs_to[2], (std::vector<std::int64_t>{3, 4, 5, 6, 7}));
  EXPECT_EQ(runner.runs_to[4], (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(result.best_config["model"]["hidden"], 5);
  // The losses are kept with the search's state, so a continued search ranks the same way.
  const auto state = Json::parse(finfuse::read_file(dir / "tune.json"));
  EXPECT_DOUBLE_EQ(state["trials"][5]["rungs"][0]["loss"].get<double>(), 1.0);
  EXPECT_TRUE(state["trials"][9]["rungs"][0]["loss"].is_null());
  TiedRunner again;
  const auto continued = tune(kBase, search, dir, again);
  EXPECT_TRUE(again.runs_to.empty());
  EXPECT_EQ(continued.best, result.best);
  std::filesystem::remove_all(dir);
}

TEST(Tune, ACrashedSearchContinuesWhereItStopped) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_tune_resume");
  const auto search = options(R"({"search": "random", "trials": 12, "seed": 3,
      "halving": {"min_epochs": 1, "reduction": 2},
      "parameters": {"/training/optimizer/lr": {"low": 1e-4, "high": 1e-1, "scale": "log"},
                     "/model/hidden": {"low": 8, "high": 40, "integer": true}}})");
  SyntheticRunner whole;
  const auto uninterrupted = tune(kBase, search, dir / "whole", whole);

  SyntheticRunner crashing;
  crashing.fail_after = 15;  // in the second rung
  EXPECT_THROW(tune(kBase, search, dir / "crashed", crashing), std::runtime_error);
  SyntheticRunner again;
  const auto resumed = tune(kBase, search, dir / "crashed", again);
  EXPECT_EQ(crashing.calls + again.calls, whole.calls);
  EXPECT_EQ(resumed.best, uninterrupted.best);
  EXPECT_EQ(resumed.best_config, uninterrupted.best_config);
  for (std::size_t i = 0; i < resumed.trials.size(); ++i) {
    EXPECT_EQ(resumed.trials[i].status, uninterrupted.trials[i].status) << i;
    EXPECT_EQ(resumed.trials[i].rungs.size(), uninterrupted.trials[i].rungs.size()) << i;
  }
  // Another search in the same folder is refused.
  SyntheticRunner other;
  auto changed = search;
  changed.seed(4);
  try {
    tune(kBase, changed, dir / "crashed", other);
    FAIL() << "a different search continued another's state";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds a search of another configuration"), std::string::npos) << e.what();
  }
  EXPECT_EQ(other.calls, 0);
  std::filesystem::remove_all(dir);
}

// Counts the rows each evaluation pass scores, to tell the validation part from the test part by size.
std::vector<std::size_t>& scored_rows() {
  static std::vector<std::size_t> rows;
  return rows;
}

class RowsScored : public evaluation::Metric {
 public:
  evaluation::MetricResult compute(const evaluation::PredictionRows& rows) const override {
    scored_rows().push_back(rows.size());
    return {{{"rows_scored", static_cast<double>(rows.size())}}, Json::object()};
  }
  Json options_json() const override { return Json{{"type", "rows_scored"}}; }
};

TEST(Tune, TrialsTrainAndScoreTheValidationPartOnly) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_tune_trainer");
  finfuse::testing::write_credit_csv(dir / "credit.csv", 11, 400);
  if (!evaluation::metric_registry().contains("rows_scored")) {
    evaluation::metric_registry().add("rows_scored", [](const Config&) -> std::unique_ptr<evaluation::Metric> {
      return std::make_unique<RowsScored>();
    });
  }
  // 400 rows: 80 for validation, 120 for test.
  const auto base = Json::parse(R"({
    "data": {"tables": {"credit": {"path": "credit.csv", "kind": "static", "entity_column": "id",
                                   "label_column": "defaulted"}},
             "samples_from_table": "credit",
             "split": {"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.3, "seed": 3},
             "dataset": {"modalities": ["numeric"]}},
    "model": {"encoders": {"numeric": {"type": "mlp", "layers": [8]}},
              "heads": {"default": {"type": "classification"}}},
    "training": {"epochs": 4, "optimizer": {"type": "adam", "lr": 0.01}, "metrics": ["roc_auc", "rows_scored"],
                 "monitor": "valid.roc_auc", "progress": "none"},
    "experiment": {"seeds": [5]}})");
  const auto search = options(R"({"search": "grid", "halving": {"min_epochs": 2, "reduction": 2},
      "parameters": {"/training/optimizer/lr": {"values": [0.0001, 0.03]},
                     "/model/encoders/numeric/layers": {"values": [[4], [16]]}}})");
  const auto runner = training_trial_runner(dir, dir / "cache");
  scored_rows().clear();
  const auto result = tune(base, search, dir / "tune", *runner);
  ASSERT_EQ(result.trials.size(), 4U);
  EXPECT_EQ(result.rungs, (std::vector<std::int64_t>{2, 4}));
  // Four trials to 2 epochs, two of them on to 4: 4 x 2 + 2 x 2 validation passes of 80 rows, no other pass.
  EXPECT_EQ(scored_rows(), std::vector<std::size_t>(12, 80));
  std::int64_t promoted = 0;
  for (const auto& t : result.trials) {
    ASSERT_FALSE(t.rungs.empty());
    EXPECT_EQ(t.rungs[0].epochs, 2);
    if (t.rungs.size() == 2) {
      ++promoted;
      // Resumed from its checkpoint: two more epochs, not four again.
      EXPECT_EQ(t.rungs[1].epochs, 4);
      EXPECT_GE(t.rungs[1].value, t.rungs[0].value);
      EXPECT_EQ(t.status, "finished");
    } else {
      EXPECT_EQ(t.status, "stopped");
    }
    EXPECT_TRUE(std::filesystem::exists(dir / "tune" / "trials" / std::to_string(t.id)));
  }
  EXPECT_EQ(promoted, 2);
  EXPECT_DOUBLE_EQ(result.best_config["training"]["optimizer"]["lr"].get<double>(), 0.03);
  // A trial asked again for a rung its checkpoint has reached (a crash before the search recorded it) trains nothing.
  const auto& stopped = *std::find_if(result.trials.begin(), result.trials.end(),
                                      [](const TrialRecord& t) { return t.status == "stopped"; });
  const auto again = runner->run(SearchSpace::apply(base, stopped.assignment), 2,
                                 dir / "tune" / "trials" / std::to_string(stopped.id));
  EXPECT_EQ(again.epochs, 2);
  EXPECT_DOUBLE_EQ(again.value, stopped.rungs[0].value);
  EXPECT_FALSE(again.finished);
  EXPECT_EQ(scored_rows().size(), 12U);

  // The chosen configuration, trained and scored on the test part once: the only 120-row pass.
  scored_rows().clear();
  auto run = RunConfig::from_config(Config(result.best_config), dir);
  const auto final_run = Experiment(std::move(run), ExperimentOptions(dir / "best")).run();
  EXPECT_EQ(std::count(scored_rows().begin(), scored_rows().end(), 120U), 1);
  EXPECT_GT(final_run.metrics.at("test").at("roc_auc").get<double>(), 0.7);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse::training
