#include "finfuse/data/numeric_preprocessor.h"

#include "finfuse/core/check.h"
#include "finfuse/data/labels.h"

#include <Eigen/Core>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace finfuse::data {
namespace {

constexpr double kMadToSigma = 1.4826;  // MAD of a normal distribution times this is its standard deviation

// Linear-interpolation quantile of sorted values (the default of NumPy and R type 7).
double quantile_sorted(const Eigen::ArrayXd& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<Eigen::Index>(std::floor(position));
  const auto above = std::min<Eigen::Index>(below + 1, sorted.size() - 1);
  const double weight = position - static_cast<double>(below);
  return sorted[below] * (1.0 - weight) + sorted[above] * weight;
}

Eigen::ArrayXd sorted_copy(Eigen::ArrayXd values) {
  std::sort(values.data(), values.data() + values.size());
  return values;
}

double log1p_signed(double x) { return x < 0 ? -std::log1p(-x) : std::log1p(x); }

Json bound_to_json(float value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

}  // namespace

void NumericPreprocessor::fit(const std::vector<float>& rows, std::size_t columns,
                              const std::vector<std::string>& names) {
  FINFUSE_CHECK(columns > 0, "NumericPreprocessor::fit: no columns");
  FINFUSE_CHECK(rows.size() % columns == 0, "NumericPreprocessor::fit: ", rows.size(), " values do not form rows of ",
                columns, " columns");
  FINFUSE_CHECK(names.empty() || names.size() == columns, "NumericPreprocessor::fit: ", names.size(),
                " names for ", columns, " columns");
  const std::size_t n = rows.size() / columns;
  names_ = names;
  if (names_.empty()) {
    for (std::size_t c = 0; c < columns; ++c) {
      names_.push_back(fmt::format("x{}", c));
    }
  }
  fill_.assign(columns, 0.0f);
  indicator_.assign(columns, false);
  lower_.assign(columns, -std::numeric_limits<float>::infinity());
  upper_.assign(columns, std::numeric_limits<float>::infinity());
  center_.assign(columns, 0.0f);
  scale_.assign(columns, 1.0f);

  std::vector<double> observed;
  for (std::size_t c = 0; c < columns; ++c) {
    observed.clear();
    for (std::size_t r = 0; r < n; ++r) {
      const float v = rows[r * columns + c];
      if (!std::isnan(v)) {
        observed.push_back(v);
      }
    }
    if (observed.empty()) {
      throw Error(fmt::format("NumericPreprocessor::fit: column '{}' has no observed value in the training rows",
                              names_[c]));
    }
    indicator_[c] = options_.missing_indicators && observed.size() < n;
    Eigen::ArrayXd x = Eigen::Map<const Eigen::ArrayXd>(observed.data(), static_cast<Eigen::Index>(observed.size()));
    const Eigen::ArrayXd sorted = sorted_copy(x);
    const double median = quantile_sorted(sorted, 0.5);
    const double mad = quantile_sorted(sorted_copy((x - median).abs()), 0.5);

    if (options_.impute == "mean") {
      fill_[c] = static_cast<float>(x.mean());
    } else if (options_.impute == "median") {
      fill_[c] = static_cast<float>(median);
    } else if (options_.impute == "constant") {
      fill_[c] = static_cast<float>(options_.fill_value);
    } else {
      fill_[c] = std::numeric_limits<float>::quiet_NaN();
    }

    if (options_.clip == "winsorize") {
      lower_[c] = static_cast<float>(quantile_sorted(sorted, options_.lower_quantile));
      upper_[c] = static_cast<float>(quantile_sorted(sorted, options_.upper_quantile));
    } else if (options_.clip == "mad") {
      lower_[c] = static_cast<float>(median - options_.mad_limit * kMadToSigma * mad);
      upper_[c] = static_cast<float>(median + options_.mad_limit * kMadToSigma * mad);
    }
    // Scaling statistics are those of the clipped (and, for log1p, transformed) training values.
    Eigen::ArrayXd y = x.max(static_cast<double>(lower_[c])).min(static_cast<double>(upper_[c]));
    if (options_.scale == "log1p") {
      y = y.unaryExpr(&log1p_signed);
    }
    double center = 0.0;
    double scale = 1.0;
    if (options_.scale == "zscore" || options_.scale == "log1p") {
      center = y.mean();
      scale = std::sqrt((y - center).square().mean());
    } else if (options_.scale == "robust") {
      const Eigen::ArrayXd ys = sorted_copy(y);
      center = quantile_sorted(ys, 0.5);
      scale = kMadToSigma * quantile_sorted(sorted_copy((y - center).abs()), 0.5);
      if (!(scale > 0)) {
        scale = std::sqrt((y - y.mean()).square().mean());  // more than half the values equal: fall back to std
      }
    } else if (options_.scale == "minmax") {
      center = y.minCoeff();
      scale = y.maxCoeff() - center;
    }
    center_[c] = static_cast<float>(center);
    scale_[c] = scale > 0 && std::isfinite(scale) ? static_cast<float>(scale) : 1.0f;  // constant column
  }
  fitted_ = true;
}

std::size_t NumericPreprocessor::output_columns() const {
  return center_.size() + static_cast<std::size_t>(std::count(indicator_.begin(), indicator_.end(), true));
}

std::vector<std::string> NumericPreprocessor::output_names() const {
  std::vector<std::string> out = names_;
  for (std::size_t c = 0; c < names_.size(); ++c) {
    if (indicator_[c]) {
      out.push_back(names_[c] + "_missing");
    }
  }
  return out;
}

std::vector<float> NumericPreprocessor::transform(const std::vector<float>& rows) const {
  FINFUSE_CHECK(fitted_, "NumericPreprocessor::transform: call fit() first");
  const std::size_t columns = center_.size();
  FINFUSE_CHECK(rows.size() % columns == 0, "NumericPreprocessor::transform: ", rows.size(),
                " values do not form rows of ", columns, " columns");
  const std::size_t n = rows.size() / columns;
  const std::size_t width = output_columns();
  const bool log = options_.scale == "log1p";
  std::vector<float> out(n * width);
  for (std::size_t r = 0; r < n; ++r) {
    std::size_t extra = columns;
    for (std::size_t c = 0; c < columns; ++c) {
      float v = rows[r * columns + c];
      const bool missing = std::isnan(v);
      if (missing) {
        v = fill_[c];
      }
      if (!std::isnan(v)) {
        v = std::clamp(v, lower_[c], upper_[c]);
        if (log) {
          v = static_cast<float>(log1p_signed(v));
        }
        v = (v - center_[c]) / scale_[c];
      }
      out[r * width + c] = v;
      if (indicator_[c]) {
        out[r * width + extra++] = missing ? 1.0f : 0.0f;
      }
    }
  }
  return out;
}

Json NumericPreprocessor::to_json() const {
  Json columns = Json::array();
  for (std::size_t c = 0; c < center_.size(); ++c) {
    columns.push_back(Json{{"name", names_[c]},
                           {"fill", bound_to_json(fill_[c])},
                           {"indicator", static_cast<bool>(indicator_[c])},
                           {"lower", bound_to_json(lower_[c])},
                           {"upper", bound_to_json(upper_[c])},
                           {"center", center_[c]},
                           {"scale", scale_[c]}});
  }
  return Json{{"options", options_.to_json()}, {"fitted", fitted_}, {"columns", columns}};
}

NumericPreprocessor NumericPreprocessor::from_json(const Config& state) {
  NumericPreprocessor p(NumericPreprocessorOptions::from_config(state.child("options")));
  p.fitted_ = state.get<bool>("fitted");
  const Config columns = state.child("columns");
  const auto bound = [](const Config& column, const std::string& key, float infinity) {
    // contains() also records the key as known, so a null bound passes reject_unknown_keys().
    return column.contains(key) && column.json()[key].is_null() ? infinity : column.get<float>(key);
  };
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Config column = columns[c];
    p.names_.push_back(column.get<std::string>("name"));
    p.fill_.push_back(bound(column, "fill", std::numeric_limits<float>::quiet_NaN()));
    p.indicator_.push_back(column.get<bool>("indicator"));
    p.lower_.push_back(bound(column, "lower", -std::numeric_limits<float>::infinity()));
    p.upper_.push_back(bound(column, "upper", std::numeric_limits<float>::infinity()));
    p.center_.push_back(column.get<float>("center"));
    const float scale = column.get<float>("scale");
    if (!(scale > 0)) {
      column.fail_at("scale", fmt::format("must be > 0, got {}", scale));
    }
    p.scale_.push_back(scale);
    column.reject_unknown_keys();
  }
  if (p.fitted_ && p.center_.empty()) {
    state.fail_at("columns", "a fitted preprocessor needs at least one column");
  }
  state.reject_unknown_keys();
  return p;
}

namespace {

template <typename Fn>
std::vector<float> per_group(const std::vector<float>& values, const std::vector<std::int64_t>& groups, Fn&& fn) {
  FINFUSE_CHECK(values.size() == groups.size(), "cross-sectional transform: ", values.size(), " values but ",
                groups.size(), " group ids");
  std::map<std::int64_t, std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isnan(values[i])) {
      members[groups[i]].push_back(i);
    }
  }
  std::vector<float> out(values.size(), std::numeric_limits<float>::quiet_NaN());
  for (const auto& [group, index] : members) {
    std::vector<double> x;
    x.reserve(index.size());
    for (auto i : index) {
      x.push_back(values[i]);
    }
    const std::vector<double> y = fn(x);
    for (std::size_t k = 0; k < index.size(); ++k) {
      out[index[k]] = static_cast<float>(y[k]);
    }
  }
  return out;
}

}  // namespace

std::vector<float> cross_sectional_zscore(const std::vector<float>& values, const std::vector<std::int64_t>& groups) {
  return per_group(values, groups, [](const std::vector<double>& x) {
    const Eigen::Map<const Eigen::ArrayXd> a(x.data(), static_cast<Eigen::Index>(x.size()));
    const double mean = a.mean();
    const double sd = std::sqrt((a - mean).square().mean());
    std::vector<double> y(x.size(), 0.0);
    if (sd > 0) {
      for (std::size_t i = 0; i < x.size(); ++i) {
        y[i] = (x[i] - mean) / sd;
      }
    }
    return y;
  });
}

std::vector<float> cross_sectional_rank(const std::vector<float>& values, const std::vector<std::int64_t>& groups) {
  return per_group(values, groups, [](const std::vector<double>& x) { return percentile_ranks(x); });
}

}  // namespace finfuse::data
