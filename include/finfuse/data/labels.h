// Prediction targets computed from prices after the decision time only: forward returns, direction with up/down
// thresholds and a dead zone, excess return over the cross-section, and cross-sectional rank.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

struct LabelOptions {
#define FINFUSE_LABEL_FIELDS(F)                                                                                   \
  F(std::string, kind, "direction",                                                                               \
    ::finfuse::FieldRule::one_of({"direction", "return", "excess_return", "rank", "column"}),                     \
    "direction (class 0/1), return, excess_return (minus the day's cross-sectional mean), rank (cross-sectional " \
    "percentile in [0, 1]) or column (the value of `column` in the entity table `table`, in its row dated on the " \
    "target day)")                                                                                                \
  F(std::string, table, "", {}, "kind column: the entity table")                                                  \
  F(std::string, column, "", {}, "kind column: its label column")                                                 \
  F(std::int64_t, horizon, 1, ::finfuse::Range::at_least(1), "trading days from the last known close to the target close") \
  F(std::string, return_type, "simple", ::finfuse::FieldRule::one_of({"simple", "log"}),                          \
    "simple (p1 / p0 - 1) or log (log(p1 / p0))")                                                                 \
  F(double, up_threshold, 0.0, {}, "direction: up (1) when the return is above this")                            \
  F(double, down_threshold, 0.0, {},                                                                              \
    "direction: down (0) when the return is at most this; returns in between are dropped (equal thresholds: no " \
    "dead zone)")                                                                                                 \
  F(std::string, price, "adj_close", ::finfuse::FieldRule::one_of({"adj_close", "close"}), "the price returns are computed from")
  FINFUSE_FIELDS(LabelOptions, FINFUSE_LABEL_FIELDS)
#undef FINFUSE_LABEL_FIELDS

  void validate(const Config& config) const;
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
