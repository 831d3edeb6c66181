#include "finfuse/core/thread_budget.h"

#include "finfuse/core/error.h"
#include "core/intra_op_threads.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/runtime.h"

#include <ATen/Parallel.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <csignal>
#include <ctime>
#include <deque>
#include <sstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace finfuse {
namespace {

using std::chrono::milliseconds;

// Restores the calling thread's intra-op thread count and the process's budget.
class ThreadBudgetTest : public ::testing::Test {
 protected:
  void TearDown() override {
    at::set_num_threads(threads_before_);
    set_process_thread_budget(ThreadBudgetOptions().follow_load(false).advise(false));
  }
  int threads_before_ = at::get_num_threads();
};

TEST(ThreadBudgetMath, BusySecondsFromProcStatCountOnlyTheListedCoresAndOnlyBusyTime) {
  // user nice system idle iowait irq softirq steal guest guest_nice; 100 ticks per second.
  const std::string text =
      "cpu  999 999 999 999 999 999 999 999 0 0\n"
      "cpu0 100 10 50 5000 70 3 2 1 40 0\n"
      "cpu1 200 0 100 4000 0 0 0 0 0 0\n"
      "cpu2 1000 0 0 0 0 0 0 0 0 0\n"
      "intr 12345 0 0\n"
      "ctxt 999\n";
  // cpu0: 100 + 10 + 50 + 3 + 2 + 1 = 166 ticks (idle, iowait and guest, already in user, left out); cpu1: 300.
  EXPECT_DOUBLE_EQ(busy_seconds_from_proc_stat(text, {0, 1}, 100), 4.66);
  EXPECT_DOUBLE_EQ(busy_seconds_from_proc_stat(text, {1}, 100), 3.0);
  EXPECT_DOUBLE_EQ(busy_seconds_from_proc_stat(text, {2}, 250), 4.0);
  // Kernels before 2.6.11 have no steal column: not enough counters.
  EXPECT_THROW(busy_seconds_from_proc_stat("cpu0 1 2 3 4 5 6 7\n", {0}, 100), Error);
  try {
    busy_seconds_from_proc_stat(text, {0, 3}, 100);
    FAIL() << "a core without a line was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no line for cpu3"), std::string::npos) << e.what();
  }
}

TEST(ThreadBudgetMath, LowersToTheFreeCoresAndRisesOnlyWithMarginToSpare) {
  // Two cores, two threads: nothing else running, a light background, another one-thread run, another two-thread run.
  EXPECT_EQ(budget_for_load(0.05, 2, 2, 2), 2);
  EXPECT_EQ(budget_for_load(0.45, 2, 2, 2), 2);
  EXPECT_EQ(budget_for_load(0.6, 2, 2, 2), 1);
  EXPECT_EQ(budget_for_load(1.0, 2, 2, 2), 1);
  EXPECT_EQ(budget_for_load(1.9, 2, 2, 2), 1);  // never below one
  // At one thread: another run at one thread keeps it there; it rises once at least 1.75 cores are free.
  EXPECT_EQ(budget_for_load(1.0, 2, 2, 1), 1);
  EXPECT_EQ(budget_for_load(0.3, 2, 2, 1), 1);
  EXPECT_EQ(budget_for_load(0.2, 2, 2, 1), 2);
  // Sixteen cores: two runs of sixteen threads meet at eight each, and stay there.
  EXPECT_EQ(budget_for_load(8.0, 16, 16, 16), 8);
  EXPECT_EQ(budget_for_load(8.0, 16, 16, 8), 8);
  EXPECT_EQ(budget_for_load(2.0, 16, 16, 8), 14);
  // The ceiling holds whatever is free; a run asked for fewer threads than cores keeps them while enough are free.
  EXPECT_EQ(budget_for_load(0.0, 16, 4, 4), 4);
  EXPECT_EQ(budget_for_load(10.0, 16, 4, 4), 4);
  EXPECT_EQ(budget_for_load(13.0, 16, 4, 4), 3);
  EXPECT_EQ(budget_for_load(0.0, 2, 1, 1), 1);
}

// A probe replaying given loads: `others` cores busy besides one of this process's, over 2 cores, 1 s apart.
ThreadBudget::Probe replay(std::deque<double> others) {
  auto state = std::make_shared<std::pair<CpuTimes, std::deque<double>>>();
  state->first.cores = 2;
  state->first.at = std::chrono::steady_clock::now();
  state->second = std::move(others);
  return [state]() -> std::optional<CpuTimes> {
    auto& [times, left] = *state;
    const CpuTimes now = times;
    const double o = left.empty() ? 0.0 : left.front();
    if (!left.empty()) {
      left.pop_front();
    }
    times.at += std::chrono::seconds(1);
    times.own_seconds += 1.0;
    times.busy_seconds += 1.0 + o;
    return now;
  };
}

TEST_F(ThreadBudgetTest, FollowsTheLoadOnTheCallingThread) {
  at::set_num_threads(2);
  // Measures at every call (interval 1 ms, each call 2 ms apart).
  ThreadBudget budget(ThreadBudgetOptions().max_threads(2).interval(milliseconds(1)), replay({1.0, 1.0, 0.1, 0.1, 0.1}));
  const auto step = [&] {
    std::this_thread::sleep_for(milliseconds(2));
    return budget.apply();
  };
  EXPECT_EQ(step(), 2);  // the first sample has nothing to compare with
  EXPECT_EQ(step(), 1);  // another process used a core
  EXPECT_DOUBLE_EQ(budget.others(), 1.0);
  EXPECT_EQ(intra_op_threads(), 1);
  EXPECT_EQ(step(), 1);  // still busy
  EXPECT_EQ(step(), 1);  // free: one vote to rise
  EXPECT_EQ(step(), 2);  // free again: risen
  EXPECT_EQ(intra_op_threads(), 2);
  EXPECT_EQ(budget.threads(), 2);
}

TEST_F(ThreadBudgetTest, OneFreeIntervalBetweenBusyOnesDoesNotRaiseIt) {
  at::set_num_threads(2);
  ThreadBudget budget(ThreadBudgetOptions().max_threads(2).interval(milliseconds(1)),
                      replay({1.0, 1.0, 0.0, 1.0, 0.0, 1.0}));
  for (int i = 0; i < 7; ++i) {
    std::this_thread::sleep_for(milliseconds(2));
    const int threads = budget.apply();
    EXPECT_EQ(threads, i < 1 ? 2 : 1) << "call " << i;
  }
}

TEST_F(ThreadBudgetTest, MeasuresOncePerInterval) {
  int probes = 0;
  ThreadBudget budget(ThreadBudgetOptions().max_threads(2).interval(milliseconds(60'000)), [&] {
    ++probes;
    return std::optional<CpuTimes>();
  });
  for (int i = 0; i < 1000; ++i) {
    budget.apply();
  }
  EXPECT_EQ(probes, 1);
}

TEST_F(ThreadBudgetTest, WithoutFollowingTheLoadItLeavesTheCountAlone) {
  at::set_num_threads(1);
  int probes = 0;
  ThreadBudget fixed(ThreadBudgetOptions().max_threads(2).follow_load(false).advise(false), [&] {
    ++probes;
    return std::optional<CpuTimes>();
  });
  EXPECT_EQ(fixed.apply(), 1);
  EXPECT_EQ(intra_op_threads(), 1);
  EXPECT_EQ(probes, 0);
  EXPECT_THROW(ThreadBudget(ThreadBudgetOptions().max_threads(0)), Error);
}

TEST_F(ThreadBudgetTest, AFixedCountUnderLoadIsWarnedAboutOnce) {
  at::set_num_threads(2);
  const auto previous = logger();
  std::ostringstream captured;
  set_logger(std::make_shared<spdlog::logger>("finfuse", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  ThreadBudget fixed(ThreadBudgetOptions().max_threads(2).follow_load(false).interval(milliseconds(1)),
                     replay({0.1, 1.0, 1.0, 1.0}));
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(milliseconds(2));
    EXPECT_EQ(fixed.apply(), 2);
  }
  logger()->flush();
  set_logger(previous);
  const std::string text = captured.str();
  const auto first = text.find("other processes keep 1.0 of this process's 2 core(s) busy while it runs 2 intra-op");
  EXPECT_NE(first, std::string::npos) << text;
  EXPECT_NE(text.find("set \"runtime\": {\"num_threads\": 1}"), std::string::npos) << text;
  EXPECT_EQ(text.find("other processes", first + 1), std::string::npos) << "warned more than once:\n" << text;
}

TEST_F(ThreadBudgetTest, RuntimeSetsUpTheProcessBudgetUnlessDeterministic) {
  apply_runtime(RuntimeOptions().device("cpu").num_threads(2).log_level("warn"));
  EXPECT_TRUE(process_thread_budget().options().follow_load());
  EXPECT_EQ(process_thread_budget().options().max_threads(), 2);
  EXPECT_FALSE(apply_runtime(RuntimeOptions().device("cpu").num_threads(2).deterministic(true).log_level("warn"))
                   .follow_load);
  EXPECT_FALSE(process_thread_budget().options().follow_load());
  EXPECT_FALSE(
      apply_runtime(RuntimeOptions().device("cpu").num_threads(2).follow_load(false).log_level("warn")).follow_load);
  EXPECT_FALSE(process_thread_budget().options().follow_load());
}

TEST(ThreadBudgetSystem, ReadsThisMachinesCounters) {
  const auto first = read_cpu_times();
  if (!first) {
    GTEST_SKIP() << "no /proc/stat on this system";
  }
  EXPECT_EQ(first->cores, available_cores());
  // Burn 0.2 s of CPU time on this thread (however long that takes on a busy machine): it shows in both counters.
  const std::clock_t start = std::clock();
  volatile double sink = 0.0;
  while (static_cast<double>(std::clock() - start) < 0.2 * CLOCKS_PER_SEC) {
    for (int i = 0; i < 10000; ++i) {
      sink = sink + 1.0;
    }
  }
  const auto second = read_cpu_times();
  ASSERT_TRUE(second.has_value());
  EXPECT_GT(second->own_seconds - first->own_seconds, 0.1);
  // The kernel's tick-based counters lag by up to a tick per core.
  EXPECT_GT(second->busy_seconds - first->busy_seconds, 0.1);
}

// Other processes spinning on every core of this process's mask: a two-thread-or-more budget goes down to one.
TEST_F(ThreadBudgetTest, GivesWayToProcessesSpinningOnTheSameCores) {
  const int cores = available_cores();
  if (cores < 2 || !read_cpu_times()) {
    GTEST_SKIP() << "needs at least 2 cores and /proc/stat";
  }
  std::vector<pid_t> spinners;
  for (int i = 0; i < cores; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child only spins (no locks, no allocation) until it is killed, or for 30 s at most.
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      volatile unsigned long spin = 0;
      while (std::chrono::steady_clock::now() < until) {
        spin = spin + 1;
      }
      ::_exit(0);
    }
    spinners.push_back(pid);
  }
  at::set_num_threads(cores);
  ThreadBudget budget(ThreadBudgetOptions().max_threads(cores).interval(milliseconds(200)));
  int threads = budget.apply();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (threads > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
    threads = budget.apply();
  }
  for (const pid_t pid : spinners) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  EXPECT_EQ(threads, 1) << "other processes kept " << budget.others() << " of " << cores << " cores busy";
  EXPECT_GT(budget.others(), cores - 1.0);
  EXPECT_EQ(intra_op_threads(), 1);
}

}  // namespace
}  // namespace finfuse
