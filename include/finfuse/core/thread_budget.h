// The intra-op thread count a run should use while other processes share its cores. LibTorch's OpenMP threads spin
// at every barrier while they believe they own their cores: two runs with a thread per core each on the same cores
// keep a few percent of their speed alone. A ThreadBudget measures how much of this process's cores other processes
// used over the last interval (the kernel's per-core counters less this process's own CPU time) and lowers the thread
// count to the cores left, raising it again once they are free. Training and evaluation loops call apply() at step
// boundaries on the thread that runs the model.
#pragma once

#include <torch/arg.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace finfuse {

/// CPU time counters at one instant.
struct CpuTimes {
  /// Busy seconds (user, nice, system, irq, softirq, steal) summed over the cores this process may run on.
  double busy_seconds = 0.0;
  /// CPU seconds of this process, every thread included.
  double own_seconds = 0.0;
  /// Cores counted in busy_seconds.
  int cores = 1;
  std::chrono::steady_clock::time_point at;
};

/// The numbers of the cores in this process's affinity mask (empty where the system does not say).
std::vector<int> affinity_cores();

/// Busy seconds of the listed cores from the text of /proc/stat (its "cpuN" lines; clock ticks of ticks_per_second).
/// Throws finfuse::Error naming the line when a listed core's line is missing or malformed.
double busy_seconds_from_proc_stat(const std::string& text, const std::vector<int>& cores, long ticks_per_second);

/// The counters now, for the cores in this process's affinity mask; nullopt where the system does not expose them
/// (no /proc/stat).
std::optional<CpuTimes> read_cpu_times();

/// The thread count for the next interval: `current` threads running while other processes used `others` of `cores`
/// cores, at most `max_threads`. Lowers at once to the cores left (rounded to the nearest); proposes a rise only when
/// at least current + 0.75 cores are free (the caller confirms it over a second interval).
int budget_for_load(double others, int cores, int max_threads, int current);

struct ThreadBudgetOptions {
  /// The ceiling: the run's configured intra-op thread count.
  TORCH_ARG(int, max_threads) = 1;
  /// Follow the load of other processes; otherwise the count stays at max_threads.
  TORCH_ARG(bool, follow_load) = true;
  /// With follow_load off: still measure, and warn once when other processes keep the cores busy (what to set).
  TORCH_ARG(bool, advise) = true;
  /// How often the load is measured.
  TORCH_ARG(std::chrono::milliseconds, interval) = std::chrono::milliseconds(500);
};

class ThreadBudget {
 public:
  using Probe = std::function<std::optional<CpuTimes>()>;

  /// `probe` reads the counters (read_cpu_times() unless a test supplies its own).
  explicit ThreadBudget(ThreadBudgetOptions options = {}, Probe probe = read_cpu_times);

  /// Measures the load when an interval has passed, and sets the calling thread's intra-op thread count (and
  /// LibTorch's default for threads started later) to the budget when it differs. Returns the count in force. Cheap
  /// between measurements (one clock read); safe to call from several threads.
  int apply();

  /// The current budget.
  int threads() const;
  /// Cores of this process's mask that other processes kept busy over the last measured interval.
  double others() const;
  const ThreadBudgetOptions& options() const { return options_; }

 private:
  void measure(std::chrono::steady_clock::time_point now);

  ThreadBudgetOptions options_;
  Probe probe_;
  mutable std::mutex mutex_;
  std::optional<CpuTimes> last_;
  std::chrono::steady_clock::time_point next_;
  int threads_;
  int rise_votes_ = 0;
  double others_ = 0.0;
  bool told_ = false;
};

/// The process's budget, set up by apply_runtime() (until then it neither measures nor changes anything). The trainer, the
/// evaluation loop and the benchmarks call process_thread_budget().apply() at step boundaries.
ThreadBudget& process_thread_budget();
/// Replaces the process's budget (apply_runtime() does; a test may).
void set_process_thread_budget(ThreadBudgetOptions options);

}  // namespace finfuse
