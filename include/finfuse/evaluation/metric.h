// Metrics (registry "metric"): each computes named values from the prediction rows of an evaluation pass, with
// details (a confusion matrix, per-date and per-entity breakdowns) where it has them. A MetricSet collects the rows
// batch by batch and computes every requested metric at the end.
//
// Built-ins. Classification: accuracy, balanced_accuracy, precision, recall, f1 (values "<name>.macro",
// "<name>.micro", "<name>.class_<k>"), mcc, roc_auc, pr_auc (average precision; one-vs-rest macro with more than two
// classes), log_loss, brier, confusion_matrix, ks, gini, ece ({"bins": 10}). Regression: mse, rmse, mae, r2, mape.
// Finance (per decision day): ic and rank_ic (values "ic", "icir", "ic.days" / "rank_ic", "rank_icir",
// "rank_ic.days"), hit_rate, backtest (see backtest.h).
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/registry.h"
#include "finfuse/data/batch.h"
#include "finfuse/evaluation/predictions.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::evaluation {

struct MetricResult {
  std::map<std::string, double> values;
  Json details = Json::object();
};

class Metric {
 public:
  virtual ~Metric() = default;
  /// Throws finfuse::Error when the rows do not suit the metric (a classification metric on scores, no rows).
  virtual MetricResult compute(const PredictionRows& rows) const = 0;
  /// The metric's resolved options (with "type").
  virtual Json options_json() const = 0;
};

using MetricRegistry = Registry<std::unique_ptr<Metric>(const Config& options)>;

MetricRegistry& metric_registry();

/// A metric from a name ("accuracy") or an options object ({"type": "backtest", "top": 0.2}).
std::unique_ptr<Metric> make_metric(const Config& options);

/// Whether larger values of a metric value ("accuracy", "backtest.sharpe", "log_loss") are better.
bool higher_is_better(const std::string& value_name);

/// Named values (metrics, losses) as a JSON object; a non-finite value is null (JSON has no NaN).
Json values_json(const std::map<std::string, double>& values);
/// One "name  value" line per value, the names aligned, each line starting with `indent`.
std::string values_text(const std::map<std::string, double>& values, const std::string& indent = "  ");

/// The metrics a task reports by default: "classification", "regression" or "ranking".
std::vector<std::string> default_metrics(const std::string& task);

class MetricSet {
 public:
  /// `metrics`: names or option objects; `classes` as in PredictionRows.
  MetricSet(const std::vector<Config>& metrics, std::int64_t classes);
  MetricSet(const std::vector<std::string>& metrics, std::int64_t classes);

  void update(const torch::Tensor& prediction, const torch::Tensor& target, const data::Batch& batch);
  void reset();
  const PredictionRows& rows() const { return rows_; }
  /// Every metric's values in one map, and their details keyed by metric name.
  MetricResult compute() const;
  /// The same, leaving out metrics that cannot be computed on these rows (no forward returns, a single class); their
  /// names and reasons go to `skipped`.
  MetricResult compute_available(std::vector<std::string>& skipped) const;

 private:
  std::vector<std::unique_ptr<Metric>> metrics_;
  std::vector<std::string> names_;
  PredictionRows rows_;
};

}  // namespace finfuse::evaluation
