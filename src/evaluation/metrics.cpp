#include "finfuse/evaluation/metric.h"
#include "finfuse/evaluation/correlation.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/shape.h"
#include "finfuse/core/suggest.h"
#include "finfuse/evaluation/backtest.h"
#include "finfuse/evaluation/metric_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

namespace finfuse::evaluation {

// -------------------------------------------------------------------------------------------------- prediction rows

void PredictionRows::reserve(std::size_t n) {
  day.reserve(n);
  entity.reserve(n);
  target.reserve(n);
  forward_return.reserve(n);
  score.reserve(n);
  probabilities.reserve(n * static_cast<std::size_t>(classes));
}

void PredictionRows::append_row(std::int32_t d, std::int64_t e, double t, double r,
                                const std::vector<double>& probs, double s) {
  FINFUSE_CHECK(static_cast<std::int64_t>(probs.size()) == classes, "prediction rows: expected ", classes,
                " probabilities, got ", probs.size());
  day.push_back(d);
  entity.push_back(e);
  target.push_back(t);
  forward_return.push_back(r);
  probabilities.insert(probabilities.end(), probs.begin(), probs.end());
  score.push_back(s);
}

void PredictionRows::append(const torch::Tensor& prediction, const torch::Tensor& target_values,
                            const data::Batch& batch) {
  const std::int64_t b = target_values.size(0);
  const auto check_rows = [&](const torch::Tensor& t, const char* what) {
    FINFUSE_CHECK_SHAPE(!t.defined() || (t.dim() >= 1 && t.size(0) == b), "prediction rows: ", what, " has ",
                        t.defined() ? shape_string(t.sizes()) : std::string("nothing"), " for ", b, " targets");
  };
  check_rows(prediction, "the prediction");
  check_rows(batch.day, "the batch's day");
  check_rows(batch.entity, "the batch's entity");
  check_rows(batch.forward_return, "the batch's forward return");
  torch::Tensor probs;
  torch::Tensor scores;
  if (classes > 0) {
    FINFUSE_CHECK_SHAPE(prediction.dim() == 2 && prediction.size(1) == classes, "prediction rows: expected logits [",
                        b, ", ", classes, "], got ", shape_string(prediction.sizes()));
    probs = torch::softmax(prediction.detach().to(torch::kCPU, torch::kFloat64), 1).contiguous();
    scores = classes == 2 ? probs.select(1, 1).contiguous()
                          : (probs * torch::arange(classes, probs.options())).sum(1).contiguous();
  } else {
    FINFUSE_CHECK_SHAPE(prediction.dim() == 1, "prediction rows: expected values [", b, "], got ",
                        shape_string(prediction.sizes()));
    scores = prediction.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  }
  const auto t = target_values.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const auto days = batch.day.defined() ? batch.day.to(torch::kCPU, torch::kInt32).contiguous() : torch::Tensor();
  const auto entities =
      batch.entity.defined() ? batch.entity.to(torch::kCPU, torch::kInt64).contiguous() : torch::Tensor();
  const auto returns = batch.forward_return.defined()
                           ? batch.forward_return.to(torch::kCPU, torch::kFloat64).contiguous()
                           : torch::Tensor();
  reserve(size() + static_cast<std::size_t>(b));
  for (std::int64_t i = 0; i < b; ++i) {
    day.push_back(days.defined() ? days.data_ptr<std::int32_t>()[i] : 0);
    entity.push_back(entities.defined() ? entities.data_ptr<std::int64_t>()[i] : i);
    target.push_back(t.data_ptr<double>()[i]);
    forward_return.push_back(returns.defined() ? returns.data_ptr<double>()[i] : std::nan(""));
    score.push_back(scores.data_ptr<double>()[i]);
    if (classes > 0) {
      const double* row = probs.data_ptr<double>() + i * classes;
      probabilities.insert(probabilities.end(), row, row + classes);
    }
  }
}

std::int64_t PredictionRows::predicted_class(std::size_t i) const {
  const double* row = probabilities.data() + i * static_cast<std::size_t>(classes);
  return static_cast<std::int64_t>(std::max_element(row, row + classes) - row);
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) {
      ++j;
    }
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) {
      ranks[order[k]] = rank;
    }
    i = j + 1;
  }
  return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const auto n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0.0 && syy > 0.0 ? sxy / std::sqrt(sxx * syy) : std::nan("");
}

namespace {

// ---------------------------------------------------------------------------------------------------------- helpers

void require_rows(const PredictionRows& rows, const std::string& metric) {
  if (rows.size() == 0) {
    throw Error(fmt::format("metric {}: no predictions to evaluate", metric));
  }
}

void require_classes(const PredictionRows& rows, const std::string& metric) {
  require_rows(rows, metric);
  if (rows.classes < 2) {
    throw Error(fmt::format("metric {} needs class probabilities; these predictions are values (a regression or "
                            "ranking head)",
                            metric));
  }
}

std::int64_t true_class(const PredictionRows& rows, std::size_t i, const std::string& metric) {
  const double t = rows.target[i];
  const auto c = static_cast<std::int64_t>(t);
  if (static_cast<double>(c) != t || c < 0 || c >= rows.classes) {
    throw Error(fmt::format("metric {}: target {} of row {} is not a class index in [0, {})", metric, t, i,
                            rows.classes));
  }
  return c;
}

double mean(const std::vector<double>& v) {
  return v.empty() ? std::nan("") : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) {
    return std::nan("");
  }
  const double m = mean(v);
  double ss = 0.0;
  for (const double x : v) {
    ss += (x - m) * (x - m);
  }
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Binary ranking quality of `score` for labels `positive`.
double roc_auc(const std::vector<double>& score, const std::vector<bool>& positive) {
  const auto ranks = average_ranks(score);
  double positives = 0.0;
  double rank_sum = 0.0;
  for (std::size_t i = 0; i < score.size(); ++i) {
    if (positive[i]) {
      positives += 1.0;
      rank_sum += ranks[i];
    }
  }
  const double negatives = static_cast<double>(score.size()) - positives;
  if (positives == 0.0 || negatives == 0.0) {
    return std::nan("");
  }
  return (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives);
}

// Walks the thresholds from the highest score down, calling visit(tp, fp) after each group of tied scores.
void sweep(const std::vector<double>& score, const std::vector<bool>& positive,
           const std::function<void(double, double)>& visit) {
  std::vector<std::size_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  double tp = 0.0, fp = 0.0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    (positive[order[i]] ? tp : fp) += 1.0;
    if (i + 1 == order.size() || score[order[i + 1]] != score[order[i]]) {
      visit(tp, fp);
    }
  }
}

double average_precision(const std::vector<double>& score, const std::vector<bool>& positive) {
  const double total = static_cast<double>(std::count(positive.begin(), positive.end(), true));
  if (total == 0.0) {
    return std::nan("");
  }
  double ap = 0.0, previous_recall = 0.0;
  sweep(score, positive, [&](double tp, double fp) {
    const double recall = tp / total;
    ap += (recall - previous_recall) * (tp / (tp + fp));
    previous_recall = recall;
  });
  return ap;
}

double ks_statistic(const std::vector<double>& score, const std::vector<bool>& positive) {
  const double p = static_cast<double>(std::count(positive.begin(), positive.end(), true));
  const double n = static_cast<double>(positive.size()) - p;
  if (p == 0.0 || n == 0.0) {
    return std::nan("");
  }
  double ks = 0.0;
  sweep(score, positive, [&](double tp, double fp) { ks = std::max(ks, std::abs(tp / p - fp / n)); });
  return ks;
}

struct Binary {
  std::vector<double> score;
  std::vector<bool> positive;
};

// Class c against the rest, scored by P(c).
Binary one_vs_rest(const PredictionRows& rows, std::int64_t c, const std::string& metric) {
  Binary out;
  out.score.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.score.push_back(rows.probability(i, c));
    out.positive.push_back(true_class(rows, i, metric) == c);
  }
  return out;
}

// Per class counts of a confusion matrix [true][predicted].
std::vector<std::vector<double>> confusion(const PredictionRows& rows, const std::string& metric) {
  const auto k = static_cast<std::size_t>(rows.classes);
  std::vector<std::vector<double>> m(k, std::vector<double>(k, 0.0));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    m[static_cast<std::size_t>(true_class(rows, i, metric))][static_cast<std::size_t>(rows.predicted_class(i))] += 1;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------------- metric kinds

using Compute = std::function<MetricResult(const PredictionRows&)>;

class FunctionMetric : public Metric {
 public:
  FunctionMetric(std::string name, Compute compute) : name_(std::move(name)), compute_(std::move(compute)) {}
  MetricResult compute(const PredictionRows& rows) const override { return compute_(rows); }
  Json options_json() const override { return Json{{"type", name_}}; }

 private:
  std::string name_;
  Compute compute_;
};

MetricResult single(const std::string& name, double value) {
  MetricResult r;
  r.values[name] = value;
  return r;
}

MetricResult precision_recall_f1(const PredictionRows& rows, const std::string& which) {
  require_classes(rows, which);
  const auto m = confusion(rows, which);
  const auto k = m.size();
  MetricResult r;
  double sum = 0.0, correct = 0.0, total = 0.0;
  for (std::size_t c = 0; c < k; ++c) {
    double predicted = 0.0, actual = 0.0;
    for (std::size_t j = 0; j < k; ++j) {
      predicted += m[j][c];
      actual += m[c][j];
      total += m[c][j];
    }
    correct += m[c][c];
    const double precision = predicted > 0.0 ? m[c][c] / predicted : 0.0;
    const double recall = actual > 0.0 ? m[c][c] / actual : 0.0;
    const double f1 = precision + recall > 0.0 ? 2.0 * precision * recall / (precision + recall) : 0.0;
    const double value = which == "precision" ? precision : which == "recall" ? recall : f1;
    r.values[fmt::format("{}.class_{}", which, c)] = value;
    sum += value;
  }
  r.values[which + ".macro"] = sum / static_cast<double>(k);
  r.values[which + ".micro"] = correct / total;  // single-label: micro precision = recall = F1 = accuracy
  return r;
}

class EceMetric : public Metric {
 public:
  explicit EceMetric(EceOptions options) : options_(std::move(options)) {}
  MetricResult compute(const PredictionRows& rows) const override {
    require_classes(rows, "ece");
    std::vector<double> count(static_cast<std::size_t>(options_.bins())), confidence(count.size()), correct(count.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto c = rows.predicted_class(i);
      const double p = rows.probability(i, c);
      // Bins (lo, hi], the first one closed: [0, 1/bins].
      auto b = static_cast<std::size_t>(std::ceil(p * static_cast<double>(options_.bins()))) ;
      b = b == 0 ? 0 : std::min<std::size_t>(b - 1, count.size() - 1);
      count[b] += 1;
      confidence[b] += p;
      correct[b] += true_class(rows, i, "ece") == c ? 1.0 : 0.0;
    }
    double ece = 0.0;
    Json bins = Json::array();
    for (std::size_t b = 0; b < count.size(); ++b) {
      if (count[b] > 0) {
        ece += std::abs(correct[b] - confidence[b]) / static_cast<double>(rows.size());
        bins.push_back(Json{{"bin", b}, {"samples", count[b]}, {"confidence", confidence[b] / count[b]},
                            {"accuracy", correct[b] / count[b]}});
      }
    }
    MetricResult r = single("ece", ece);
    r.details = Json{{"bins", bins}};
    return r;
  }
  Json options_json() const override { return typed_json("ece", options_.to_json()); }

 private:
  EceOptions options_;
};

// Per-day correlation of the score with the realised forward return.
class IcMetric : public Metric {
 public:
  IcMetric(IcOptions options, bool rank) : rank_(rank), options_(std::move(options)) {}
  MetricResult compute(const PredictionRows& rows) const override {
    const std::string name = rank_ ? "rank_ic" : "ic";
    require_rows(rows, name);
    std::map<std::int32_t, std::pair<std::vector<double>, std::vector<double>>> by_day;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (std::isfinite(rows.forward_return[i]) && std::isfinite(rows.score[i])) {
        by_day[rows.day[i]].first.push_back(rows.score[i]);
        by_day[rows.day[i]].second.push_back(rows.forward_return[i]);
      }
    }
    std::vector<double> ics;
    Json per_day = Json::array();
    for (const auto& [day, xy] : by_day) {
      if (static_cast<std::int64_t>(xy.first.size()) < options_.min_samples()) {
        continue;
      }
      const double ic = rank_ ? pearson(average_ranks(xy.first), average_ranks(xy.second)) : pearson(xy.first, xy.second);
      if (std::isfinite(ic)) {
        ics.push_back(ic);
        per_day.push_back(Json{{"day", day}, {"samples", xy.first.size()}, {name, ic}});
      }
    }
    MetricResult r;
    r.values[name] = mean(ics);
    r.values[name + "ir"] = mean(ics) / sample_std(ics);
    r.values[name + ".days"] = static_cast<double>(ics.size());
    r.details = Json{{"per_day", per_day}};
    return r;
  }
  Json options_json() const override { return typed_json(rank_ ? "rank_ic" : "ic", options_.to_json()); }

 private:
  bool rank_;
  IcOptions options_;
};

class BacktestMetric : public Metric {
 public:
  explicit BacktestMetric(const Config& options) : options_(BacktestOptions::from_config(options)) {}
  MetricResult compute(const PredictionRows& rows) const override {
    const auto result = run_backtest(rows, options_);
    MetricResult r;
    r.values = {{"backtest.annual_return", result.annual_return}, {"backtest.volatility", result.volatility},
                {"backtest.sharpe", result.sharpe},               {"backtest.sortino", result.sortino},
                {"backtest.max_drawdown", result.max_drawdown},   {"backtest.calmar", result.calmar},
                {"backtest.turnover", result.turnover},           {"backtest.total_return", result.total_return},
                {"backtest.periods", static_cast<double>(result.days.size())},
                {"backtest.benchmark_annual_return", result.benchmark_annual_return}};
    r.details = result.to_json();
    return r;
  }
  Json options_json() const override { return typed_json("backtest", options_.to_json()); }

 private:
  BacktestOptions options_;
};

double hit_rate(const PredictionRows& rows) {
  require_rows(rows, "hit_rate");
  // Ranking scores have no sign: compare with the day's median score and median return instead.
  std::map<std::int32_t, std::pair<std::vector<double>, std::vector<double>>> by_day;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (std::isfinite(rows.forward_return[i])) {
      by_day[rows.day[i]].first.push_back(rows.score[i]);
      by_day[rows.day[i]].second.push_back(rows.forward_return[i]);
    }
  }
  double hits = 0.0, total = 0.0;
  for (auto& [day, xy] : by_day) {
    for (std::size_t i = 0; i < xy.first.size(); ++i) {
      const double r = xy.second[i];
      if (r == 0.0) {
        continue;
      }
      const bool up = rows.classes == 2 ? xy.first[i] > 0.5 : xy.first[i] > 0.0;
      hits += up == (r > 0.0) ? 1.0 : 0.0;
      total += 1.0;
    }
  }
  if (total == 0.0) {
    throw Error("metric hit_rate: no prediction has a non-zero forward return");
  }
  return hits / total;
}

void register_builtin_metrics(MetricRegistry& registry) {
  const auto add = [&](const std::string& name, Compute compute) {
    registry.add(
        name,
        [name, compute](const Config& options) -> std::unique_ptr<Metric> {
          options.reject_unknown_keys();
          return std::make_unique<FunctionMetric>(name, compute);
        },
        {});  // no options
  };
  add("accuracy", [](const PredictionRows& rows) {
    require_classes(rows, "accuracy");
    double correct = 0.0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      correct += rows.predicted_class(i) == true_class(rows, i, "accuracy") ? 1.0 : 0.0;
    }
    return single("accuracy", correct / static_cast<double>(rows.size()));
  });
  add("balanced_accuracy", [](const PredictionRows& rows) {
    require_classes(rows, "balanced_accuracy");
    const auto m = confusion(rows, "balanced_accuracy");
    double sum = 0.0, present = 0.0;
    for (std::size_t c = 0; c < m.size(); ++c) {
      const double actual = std::accumulate(m[c].begin(), m[c].end(), 0.0);
      if (actual > 0.0) {
        sum += m[c][c] / actual;
        present += 1.0;
      }
    }
    return single("balanced_accuracy", sum / present);
  });
  for (const std::string which : {"precision", "recall", "f1"}) {
    add(which, [which](const PredictionRows& rows) { return precision_recall_f1(rows, which); });
  }
  add("mcc", [](const PredictionRows& rows) {
    require_classes(rows, "mcc");
    const auto m = confusion(rows, "mcc");
    double s = 0.0, c = 0.0, pt = 0.0, pp = 0.0, tt = 0.0;
    std::vector<double> t(m.size(), 0.0), p(m.size(), 0.0);
    for (std::size_t i = 0; i < m.size(); ++i) {
      for (std::size_t j = 0; j < m.size(); ++j) {
        t[i] += m[i][j];
        p[j] += m[i][j];
        s += m[i][j];
      }
      c += m[i][i];
    }
    for (std::size_t k = 0; k < m.size(); ++k) {
      pt += p[k] * t[k];
      pp += p[k] * p[k];
      tt += t[k] * t[k];
    }
    const double denominator = std::sqrt((s * s - pp) * (s * s - tt));
    return single("mcc", denominator > 0.0 ? (c * s - pt) / denominator : 0.0);
  });
  const auto binary_or_macro = [](const PredictionRows& rows, const std::string& name,
                                  double (*f)(const std::vector<double>&, const std::vector<bool>&)) {
    require_classes(rows, name);
    if (rows.classes == 2) {
      return f(one_vs_rest(rows, 1, name).score, one_vs_rest(rows, 1, name).positive);
    }
    std::vector<double> per_class;
    for (std::int64_t c = 0; c < rows.classes; ++c) {
      const auto b = one_vs_rest(rows, c, name);
      per_class.push_back(f(b.score, b.positive));
    }
    return mean(per_class);
  };
  add("roc_auc", [binary_or_macro](const PredictionRows& rows) {
    return single("roc_auc", binary_or_macro(rows, "roc_auc", roc_auc));
  });
  add("pr_auc", [binary_or_macro](const PredictionRows& rows) {
    return single("pr_auc", binary_or_macro(rows, "pr_auc", average_precision));
  });
  add("gini", [binary_or_macro](const PredictionRows& rows) {
    return single("gini", 2.0 * binary_or_macro(rows, "gini", roc_auc) - 1.0);
  });
  add("ks", [](const PredictionRows& rows) {
    require_classes(rows, "ks");
    if (rows.classes != 2) {
      throw Error("metric ks needs two classes");
    }
    const auto b = one_vs_rest(rows, 1, "ks");
    return single("ks", ks_statistic(b.score, b.positive));
  });
  add("log_loss", [](const PredictionRows& rows) {
    require_classes(rows, "log_loss");
    double total = 0.0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const double p = std::clamp(rows.probability(i, true_class(rows, i, "log_loss")), 1e-15, 1.0 - 1e-15);
      total -= std::log(p);
    }
    return single("log_loss", total / static_cast<double>(rows.size()));
  });
  add("brier", [](const PredictionRows& rows) {
    require_classes(rows, "brier");
    double total = 0.0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto y = true_class(rows, i, "brier");
      if (rows.classes == 2) {
        const double d = rows.probability(i, 1) - (y == 1 ? 1.0 : 0.0);
        total += d * d;
      } else {
        for (std::int64_t c = 0; c < rows.classes; ++c) {
          const double d = rows.probability(i, c) - (y == c ? 1.0 : 0.0);
          total += d * d;
        }
      }
    }
    return single("brier", total / static_cast<double>(rows.size()));
  });
  add("confusion_matrix", [](const PredictionRows& rows) {
    require_classes(rows, "confusion_matrix");
    MetricResult r;
    r.details = Json{{"rows", "true class"}, {"columns", "predicted class"}, {"matrix", confusion(rows, "confusion_matrix")}};
    return r;
  });
  registry.add(
      "ece",
      [](const Config& options) -> std::unique_ptr<Metric> {
        return std::make_unique<EceMetric>(EceOptions::from_config(options));
      },
      EceOptions::fields());

  const auto regression = [](const PredictionRows& rows, const std::string& name) {
    require_rows(rows, name);
    if (rows.classes > 0) {
      throw Error(fmt::format("metric {} needs predicted values; these predictions are class probabilities", name));
    }
  };
  const auto mean_of = [](const PredictionRows& rows, const std::function<double(double, double)>& f) {
    double total = 0.0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      total += f(rows.score[i], rows.target[i]);
    }
    return total / static_cast<double>(rows.size());
  };
  add("mse", [=](const PredictionRows& rows) {
    regression(rows, "mse");
    return single("mse", mean_of(rows, [](double p, double y) { return (p - y) * (p - y); }));
  });
  add("rmse", [=](const PredictionRows& rows) {
    regression(rows, "rmse");
    return single("rmse", std::sqrt(mean_of(rows, [](double p, double y) { return (p - y) * (p - y); })));
  });
  add("mae", [=](const PredictionRows& rows) {
    regression(rows, "mae");
    return single("mae", mean_of(rows, [](double p, double y) { return std::abs(p - y); }));
  });
  add("mape", [=](const PredictionRows& rows) {
    regression(rows, "mape");
    const double eps = std::numeric_limits<double>::epsilon();
    return single("mape", mean_of(rows, [eps](double p, double y) { return std::abs(p - y) / std::max(std::abs(y), eps); }));
  });
  add("r2", [=](const PredictionRows& rows) {
    regression(rows, "r2");
    const double m = mean(rows.target);
    double residual = 0.0, total = 0.0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      residual += (rows.target[i] - rows.score[i]) * (rows.target[i] - rows.score[i]);
      total += (rows.target[i] - m) * (rows.target[i] - m);
    }
    return single("r2", total > 0.0 ? 1.0 - residual / total : (residual == 0.0 ? 1.0 : 0.0));
  });
  for (const bool rank : {false, true}) {
    registry.add(
        rank ? "rank_ic" : "ic",
        [rank](const Config& options) -> std::unique_ptr<Metric> {
          return std::make_unique<IcMetric>(IcOptions::from_config(options), rank);
        },
        IcOptions::fields());
  }
  add("hit_rate", [](const PredictionRows& rows) { return single("hit_rate", hit_rate(rows)); });
  registry.add(
      "backtest",
      [](const Config& options) -> std::unique_ptr<Metric> { return std::make_unique<BacktestMetric>(options); },
      BacktestOptions::fields());
}

}  // namespace

MetricRegistry& metric_registry() {
  static MetricRegistry registry("metric", register_builtin_metrics);
  return registry;
}

std::unique_ptr<Metric> make_metric(const Config& options) {
  if (options.json().is_string()) {
    const auto name = options.as<std::string>();
    if (!metric_registry().contains(name)) {
      const auto known = metric_registry().names();
      options.fail(fmt::format("unknown metric '{}'{}; registered: {}", name, did_you_mean(name, known),
                               quoted_list(known)));
    }
    return metric_registry().create(name, Config(Json::object(), options.source()));
  }
  const auto type = options.get<std::string>("type");
  if (!metric_registry().contains(type)) {
    const auto known = metric_registry().names();
    options.fail_at("type", fmt::format("unknown metric '{}'{}; registered: {}", type, did_you_mean(type, known),
                                        quoted_list(known)));
  }
  return metric_registry().create(type, options);
}

bool higher_is_better(const std::string& value_name) {
  static const std::vector<std::string> lower = {"loss", "log_loss", "brier", "ece", "mse", "rmse", "mae", "mape",
                                                 "backtest.volatility", "backtest.max_drawdown", "backtest.turnover"};
  for (const auto& name : lower) {
    if (value_name == name || (value_name.size() > name.size() &&
                               value_name.compare(value_name.size() - name.size() - 1, std::string::npos, "." + name) == 0)) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> default_metrics(const std::string& task) {
  if (task == "classification") {
    return {"accuracy", "balanced_accuracy", "f1", "mcc", "roc_auc", "log_loss"};
  }
  if (task == "regression") {
    return {"mse", "mae", "r2", "ic", "rank_ic"};
  }
  FINFUSE_CHECK(task == "ranking", "default_metrics: unknown task '", task, "'");
  return {"ic", "rank_ic", "hit_rate"};
}

MetricSet::MetricSet(const std::vector<Config>& metrics, std::int64_t classes) {
  rows_.classes = classes;
  for (const auto& m : metrics) {
    metrics_.push_back(make_metric(m));
    names_.push_back(metrics_.back()->options_json().value("type", std::string("metric")));
  }
}

MetricSet::MetricSet(const std::vector<std::string>& metrics, std::int64_t classes) {
  rows_.classes = classes;
  for (const auto& m : metrics) {
    metrics_.push_back(make_metric(Config(Json(m))));
    names_.push_back(m);
  }
}

void MetricSet::update(const torch::Tensor& prediction, const torch::Tensor& target, const data::Batch& batch) {
  rows_.append(prediction, target, batch);
}

void MetricSet::reset() {
  const auto classes = rows_.classes;
  rows_ = PredictionRows();
  rows_.classes = classes;
}

MetricResult MetricSet::compute() const {
  MetricResult out;
  for (std::size_t k = 0; k < metrics_.size(); ++k) {
    auto r = metrics_[k]->compute(rows_);
    out.values.insert(r.values.begin(), r.values.end());
    if (!r.details.empty()) {
      out.details[names_[k]] = std::move(r.details);
    }
  }
  return out;
}

MetricResult MetricSet::compute_available(std::vector<std::string>& skipped) const {
  MetricResult out;
  for (std::size_t k = 0; k < metrics_.size(); ++k) {
    try {
      auto r = metrics_[k]->compute(rows_);
      out.values.insert(r.values.begin(), r.values.end());
      if (!r.details.empty()) {
        out.details[names_[k]] = std::move(r.details);
      }
    } catch (const Error& e) {
      skipped.push_back(fmt::format("{}: {}", names_[k], e.what()));
    }
  }
  return out;
}

Json values_json(const std::map<std::string, double>& values) {
  Json out = Json::object();
  for (const auto& [k, v] : values) {
    out[k] = std::isfinite(v) ? Json(v) : Json(nullptr);
  }
  return out;
}

std::string values_text(const std::map<std::string, double>& values, const std::string& indent) {
  std::size_t width = 0;
  for (const auto& [k, v] : values) {
    width = std::max(width, k.size());
  }
  std::string out;
  for (const auto& [k, v] : values) {
    out += fmt::format("{}{:<{}}  {:.6g}\n", indent, k, width, v);
  }
  return out;
}

}  // namespace finfuse::evaluation
