#include "finfuse/evaluation/efficiency.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <thread>

namespace finfuse::evaluation {
namespace {

// Each run sleeps 2 ms: a lower bound on every run time whatever the machine does meanwhile.
void sleep_2ms() { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }

TEST(Efficiency, LatencyOverAGivenNumberOfRuns) {
  int calls = 0;
  const auto stats = measure_latency([&] { ++calls, sleep_2ms(); }, 7, 3);
  EXPECT_EQ(calls, 10);
  EXPECT_EQ(stats.runs, 7);
  EXPECT_GE(stats.p50_ms, 2.0);
  EXPECT_GE(stats.p99_ms, stats.p50_ms);
  EXPECT_GE(stats.mean_ms, 2.0);
  EXPECT_THROW(measure_latency([] {}, 0), Error);
}

TEST(Efficiency, LatencyOverAGivenTime) {
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto stats = measure_latency_for([&] { ++calls, sleep_2ms(); }, 0.03, 2);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Timed runs until 30 ms have passed: at most 15 of 2 ms or more, at least one; the call lasts at least 30 ms.
  EXPECT_GE(stats.runs, 1);
  EXPECT_LE(stats.runs, 15);
  EXPECT_EQ(calls, stats.runs + 2);
  EXPECT_GE(elapsed, 0.03);
  EXPECT_GE(stats.p50_ms, 2.0);
  // A run longer than the time given is still measured once.
  EXPECT_EQ(measure_latency_for(sleep_2ms, 1e-6, 0).runs, 1);
  EXPECT_THROW(measure_latency_for([] {}, 0.0), Error);
}

}  // namespace
}  // namespace finfuse::evaluation
