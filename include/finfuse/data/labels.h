// Prediction targets computed from prices after the decision time only: forward returns, direction with up/down
// thresholds and a dead zone, excess return over the cross-section, and cross-sectional rank.
#pragma once

#include "finfuse/core/config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

struct LabelOptions {
  /// "direction" (class 0/1), "return", "excess_return" (minus the same day's cross-sectional mean),
  /// "rank" (cross-sectional percentile in [0, 1]) or "column" (a given label: the value of `column` in the entity
  /// table `table`, in its row dated on the target day).
  std::string kind = "direction";
  std::string table;
  std::string column;
  /// Trading days from the last known close to the target close.
  std::int64_t horizon = 1;
  /// "simple" (p1 / p0 - 1) or "log" (log(p1 / p0)).
  std::string return_type = "simple";
  /// direction: "up" (1) when the return is > up_threshold, "down" (0) when <= down_threshold; returns in between
  /// fall in the dead zone and the sample is dropped. Equal thresholds mean no dead zone.
  double up_threshold = 0.0;
  double down_threshold = 0.0;
  /// "adj_close" or "close".
  std::string price = "adj_close";

  static LabelOptions from_config(const Config& config);
  Json to_json() const;

  bool is_classification() const { return kind == "direction"; }
  bool is_cross_sectional() const { return kind == "excess_return" || kind == "rank"; }
};

/// The forward return from p0 to p1.
double forward_return(double p0, double p1, const std::string& return_type);

/// The direction class of a return (1 up, 0 down), or nothing in the dead zone.
std::optional<float> direction_label(double r, const LabelOptions& options);

/// Percentile ranks in [0, 1] of `values` (ties share their average rank; a single value ranks 0.5).
std::vector<double> percentile_ranks(const std::vector<double>& values);

}  // namespace finfuse::data
