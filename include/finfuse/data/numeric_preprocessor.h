// Preprocessing of numeric features, fitted on the training split only and applied identically at inference:
// missing-value filling (with optional missing-indicator columns), outlier clipping (quantile winsorising or MAD
// clipping) and scaling (z-score, robust z-score, min-max, log1p). The fitted state is saved to and loaded from
// JSON so a bundle reproduces it exactly.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::data {

struct NumericPreprocessorOptions {
#define FINFUSE_NUMERIC_PREPROCESSOR_FIELDS(F)                                                                   \
  F(std::string, impute, "median", ::finfuse::FieldRule::one_of({"mean", "median", "constant", "drop", "none"}), \
    "missing values: mean, median, constant (fill_value), drop (the dataset leaves the sample out) or none "     \
    "(NaN stays, for callers that handle it)")                                                                   \
  F(double, fill_value, 0.0, {}, "the value of impute \"constant\"")                                            \
  F(bool, missing_indicators, false, {}, "append a 0/1 column per column that had missing values in training")  \
  F(std::string, clip, "none", ::finfuse::FieldRule::one_of({"none", "winsorize", "mad"}),                       \
    "winsorize: clip to the training quantiles; mad: clip to median +- mad_limit * 1.4826 * MAD")                \
  F(double, lower_quantile, 0.01, ::finfuse::Range::closed(0, 0.5), "winsorize: the lower quantile")             \
  F(double, upper_quantile, 0.99, ::finfuse::Range::closed(0.5, 1), "winsorize: the upper quantile")             \
  F(double, mad_limit, 5.0, ::finfuse::Range::positive(), "mad: the clip distance in scaled MADs")               \
  F(std::string, scale, "zscore", ::finfuse::FieldRule::one_of({"zscore", "robust", "minmax", "log1p", "none"}), \
    "zscore, robust ((x - median) / (1.4826 MAD)), minmax (to [0, 1]), log1p (sign(x) log(1 + |x|), then "       \
    "z-score) or none")
  FINFUSE_FIELDS(NumericPreprocessorOptions, FINFUSE_NUMERIC_PREPROCESSOR_FIELDS)
#undef FINFUSE_NUMERIC_PREPROCESSOR_FIELDS
};


/// Fitted per-column preprocessing. Inputs are row-major matrices (rows x columns) with NaN for missing values.
class NumericPreprocessor {
 public:
  NumericPreprocessor() = default;
  explicit NumericPreprocessor(NumericPreprocessorOptions options) : options_(std::move(options)) {}

  /// Learns the statistics of each column from the training rows (NaNs ignored). Throws finfuse::Error when a
  /// column has no observed value at all.
  void fit(const std::vector<float>& rows, std::size_t columns, const std::vector<std::string>& names = {});
  /// Applies the fitted steps; the output has output_columns() columns.
  std::vector<float> transform(const std::vector<float>& rows) const;

  bool fitted() const { return fitted_; }
  std::size_t input_columns() const { return center_.size(); }
  /// The input columns' names, when fit() was given them.
  const std::vector<std::string>& input_names() const { return names_; }
  std::size_t output_columns() const;
  /// Input names, then "<name>_missing" for each indicator column.
  std::vector<std::string> output_names() const;
  const NumericPreprocessorOptions& options() const { return options_; }

  /// The options and every fitted statistic.
  Json to_json() const;
  /// Restores a fitted preprocessor; ConfigError (with the JSON path) for malformed state.
  static NumericPreprocessor from_json(const Config& state);

 private:
  NumericPreprocessorOptions options_;
  bool fitted_ = false;
  std::vector<std::string> names_;
  std::vector<float> fill_;
  std::vector<bool> indicator_;
  std::vector<float> lower_;
  std::vector<float> upper_;
  std::vector<float> center_;
  std::vector<float> scale_;
};

/// Per-group (per-date) cross-sectional transforms, computed without fitting: each row's value is replaced by its
/// z-score (or its percentile rank in [0, 1]) among the rows of the same group. NaNs stay NaN and are ignored.
std::vector<float> cross_sectional_zscore(const std::vector<float>& values, const std::vector<std::int64_t>& groups);
std::vector<float> cross_sectional_rank(const std::vector<float>& values, const std::vector<std::int64_t>& groups);

}  // namespace finfuse::data
