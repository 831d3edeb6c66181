#include "finfuse/evaluation/efficiency.h"

#include "finfuse/core/check.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

#include <sys/resource.h>

#ifdef FINFUSE_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace finfuse::evaluation {

Json LatencyStats::to_json() const {
  return Json{{"p50_ms", p50_ms}, {"p99_ms", p99_ms}, {"mean_ms", mean_ms}, {"runs", runs}};
}

namespace {

// Nearest-rank percentiles of the run times.
LatencyStats latency_stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const auto rank = [&](double q) {
    const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ms.size())));
    return ms[std::min(ms.size() - 1, k == 0 ? 0 : k - 1)];
  };
  LatencyStats s;
  s.p50_ms = rank(0.50);
  s.p99_ms = rank(0.99);
  s.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  s.runs = static_cast<std::int64_t>(ms.size());
  return s;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

LatencyStats measure_latency(const std::function<void()>& run, std::int64_t repeats, std::int64_t warmup) {
  FINFUSE_CHECK(repeats > 0, "measure_latency: repeats must be > 0");
  for (std::int64_t i = 0; i < warmup; ++i) {
    run();
  }
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(repeats));
  for (std::int64_t i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(milliseconds_since(start));
  }
  return latency_stats(std::move(ms));
}

LatencyStats measure_latency_for(const std::function<void()>& run, double seconds, std::int64_t warmup) {
  FINFUSE_CHECK(seconds > 0.0, "measure_latency_for: seconds must be > 0, got ", seconds);
  for (std::int64_t i = 0; i < warmup; ++i) {
    run();
  }
  std::vector<double> ms;
  const auto first = std::chrono::steady_clock::now();
  do {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(milliseconds_since(start));
  } while (milliseconds_since(first) < seconds * 1000.0);
  return latency_stats(std::move(ms));
}

std::int64_t peak_memory_bytes() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) {
    return 0;
  }
  return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

#ifdef FINFUSE_WITH_CUDA
namespace {

// The aggregate over small and large pools (StatType::AGGREGATE, index 0 in every LibTorch version).
constexpr std::size_t kAggregate = 0;

}  // namespace

std::int64_t device_peak_memory_bytes(const c10::Device& device) {
  if (!device.is_cuda()) {
    return 0;
  }
  return c10::cuda::CUDACachingAllocator::getDeviceStats(device.index()).allocated_bytes[kAggregate].peak;
}

std::int64_t device_reserved_memory_bytes(const c10::Device& device) {
  if (!device.is_cuda()) {
    return 0;
  }
  return c10::cuda::CUDACachingAllocator::getDeviceStats(device.index()).reserved_bytes[kAggregate].current;
}

void reset_device_peak_memory(const c10::Device& device) {
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
  }
}
#else
std::int64_t device_peak_memory_bytes(const c10::Device& /*device*/) { return 0; }
std::int64_t device_reserved_memory_bytes(const c10::Device& /*device*/) { return 0; }
void reset_device_peak_memory(const c10::Device& /*device*/) {}
#endif

}  // namespace finfuse::evaluation
