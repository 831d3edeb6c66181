// Efficiency figures that evaluations report next to accuracy: inference latency percentiles for single samples and
// the process's peak memory.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/batch.h"

#include <cstdint>
#include <functional>

namespace finfuse::evaluation {

struct LatencyStats {
  double p50_ms = 0.0;
  double p99_ms = 0.0;
  double mean_ms = 0.0;
  std::int64_t runs = 0;

  Json to_json() const;
};

/// Times `run` `repeats` times after `warmup` untimed runs.
LatencyStats measure_latency(const std::function<void()>& run, std::int64_t repeats = 200, std::int64_t warmup = 10);

/// The largest resident set size this process has had, in bytes (getrusage).
std::int64_t peak_memory_bytes();

}  // namespace finfuse::evaluation
