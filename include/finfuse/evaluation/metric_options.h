// Options of the built-in metrics that take any (the backtest metric's are BacktestOptions, evaluation/backtest.h):
//
//   TrainerOptions().metrics({"mcc", Json{{"type", "ece"}, {"bins", 15}}, Json{{"type", "rank_ic"}, {"min_samples", 5}}})
#pragma once

#include "finfuse/core/options.h"

#include <cstdint>

namespace finfuse::evaluation {

/// "ece": the expected calibration error over equal-width bins of the predicted class's probability.
struct EceOptions {
#define FINFUSE_ECE_FIELDS(F) \
  F(std::int64_t, bins, 10, ::finfuse::Range::positive(), "equal-width bins of the predicted class's probability")
  FINFUSE_OPTIONS(EceOptions, FINFUSE_ECE_FIELDS)
#undef FINFUSE_ECE_FIELDS
};

/// "ic" and "rank_ic": the per-day (rank) correlation of the score with the forward return, and its ICIR.
struct IcOptions {
#define FINFUSE_IC_FIELDS(F)                                              \
  F(std::int64_t, min_samples, 3, ::finfuse::Range::at_least(2), \
    "decision days with fewer scored samples are left out")
  FINFUSE_OPTIONS(IcOptions, FINFUSE_IC_FIELDS)
#undef FINFUSE_IC_FIELDS
};

}  // namespace finfuse::evaluation
