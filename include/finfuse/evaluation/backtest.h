// A top-k long-short backtest of prediction scores with transaction costs. On each decision day the samples are
// ranked by score; the top `top` (a count >= 1, or a fraction < 1 of the day's samples) are held long with equal
// weights summing to +1 and the bottom as many short with weights summing to -1 (long_only: the long leg alone). The
// period's gross return is sum_i w_i r_i with r_i the realised forward return; turnover is sum_i |w_i - w_i,prev|
// (entering the first portfolio counts); the net return subtracts turnover x cost_bps / 10^4.
//
// Reported: annual_return (geometric: prod(1 + r)^(periods_per_year / n) - 1), volatility (sample standard deviation
// x sqrt(periods_per_year)), sharpe (mean / sd x sqrt(periods_per_year), no risk-free rate), sortino (mean /
// sqrt(mean(min(r, 0)^2)) x sqrt(periods_per_year)), max_drawdown (largest fall of the equity curve from its running
// peak, as a fraction), calmar (annual_return / max_drawdown), turnover (mean per period), total_return, periods.
// Forward returns over h > 1 days overlap from one decision day to the next: set periods_per_year to 252 / h and read
// the figures as those of h-day rebalancing.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/evaluation/predictions.h"

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::evaluation {

struct BacktestOptions {
#define FINFUSE_BACKTEST_FIELDS(F)                                                                                \
  F(std::string, kind, "cross_section", ::finfuse::FieldRule::one_of({"cross_section", "timing"}),                \
    "cross_section: long the top names, short the bottom ones, each day; timing: each sample long (+1) when its " \
    "score is above threshold, short (-1, or flat with long_only) otherwise, equally weighted within the day")   \
  F(double, top, 0.2, ::finfuse::Range::positive(),                                                               \
    "names per leg: a count (>= 1) or a fraction of the day's samples (< 1; at least one name)")                 \
  F(double, threshold, 0.5, {}, "timing: the score above which a sample is held long")                           \
  F(std::int64_t, every, 1, ::finfuse::Range::at_least(1),                                                        \
    "use every n-th decision day only (with h-day forward returns, every = h gives non-overlapping periods)")    \
  F(double, cost_bps, 10.0, ::finfuse::Range::non_negative(), "cost per unit of turnover, in basis points")       \
  F(double, periods_per_year, 252.0, ::finfuse::Range::positive(), "for annualising")                             \
  F(bool, long_only, false, {}, "no short leg")                                                                   \
  F(std::int64_t, min_samples, 2, ::finfuse::Range::at_least(1), "days with fewer samples are skipped")
  FINFUSE_FIELDS(BacktestOptions, FINFUSE_BACKTEST_FIELDS)
#undef FINFUSE_BACKTEST_FIELDS

  void validate(const Config& config) const;
  /// Adds "type": "backtest" (the metric these options configure).
  void extend_json(Json& out) const { out["type"] = "backtest"; }
};


struct BacktestDay {
  std::int32_t day = 0;
  double long_return = 0.0;
  double short_return = 0.0;
  double gross = 0.0;
  double turnover = 0.0;
  double net = 0.0;
  double equity = 1.0;
  /// Holding every sample of the day with equal weights, without costs.
  double benchmark_equity = 1.0;
};

struct BacktestEntity {
  std::int64_t entity = 0;
  std::int64_t days_long = 0;
  std::int64_t days_short = 0;
  /// Sum over days of w_i r_i (before costs).
  double contribution = 0.0;
};

struct BacktestResult {
  std::vector<BacktestDay> days;
  std::vector<BacktestEntity> entities;
  double annual_return = 0.0;
  double volatility = 0.0;
  double sharpe = 0.0;
  double sortino = 0.0;
  double max_drawdown = 0.0;
  double calmar = 0.0;
  double turnover = 0.0;
  double total_return = 0.0;
  /// The same for buying every sample of each day with equal weights, without costs.
  double benchmark_total_return = 0.0;
  double benchmark_annual_return = 0.0;

  Json to_json() const;
};

/// Runs the backtest on rows with scores, days and forward returns (rows whose return is NaN are left out). Throws
/// finfuse::Error when no day has enough samples.
BacktestResult run_backtest(const PredictionRows& rows, const BacktestOptions& options);

}  // namespace finfuse::evaluation
