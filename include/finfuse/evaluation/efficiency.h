// Efficiency figures that evaluations report next to accuracy: inference latency percentiles for single samples and
// the process's peak memory, and on a GPU the peak of the memory LibTorch's CUDA allocator handed out.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/batch.h"

#include <c10/core/Device.h>

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
/// The same, running `run` (after `warmup` runs) until `seconds` have passed, at least once.
LatencyStats measure_latency_for(const std::function<void()>& run, double seconds, std::int64_t warmup = 10);

/// The largest resident set size this process has had, in bytes (getrusage).
std::int64_t peak_memory_bytes();

/// The most GPU memory that tensors on `device` have held since the process started or since the last
/// reset_device_peak_memory(), from LibTorch's CUDA caching allocator; 0 for the CPU or a LibTorch without CUDA.
std::int64_t device_peak_memory_bytes(const c10::Device& device);
/// The GPU memory that the caching allocator has reserved from the driver on `device` now (held by tensors or cached).
std::int64_t device_reserved_memory_bytes(const c10::Device& device);
/// Starts device_peak_memory_bytes() afresh (e.g. at each epoch); nothing for the CPU.
void reset_device_peak_memory(const c10::Device& device);

}  // namespace finfuse::evaluation
