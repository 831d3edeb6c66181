#include "finfuse/core/thread_budget.h"

#include "finfuse/core/check.h"
#include "intra_op_threads.h"
#include "finfuse/core/logging.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>

#if defined(__linux__)
#include <time.h>
#include <unistd.h>
#endif

namespace finfuse {

double busy_seconds_from_proc_stat(const std::string& text, const std::vector<int>& cores, long ticks_per_second) {
  FINFUSE_CHECK(ticks_per_second > 0, "clock ticks per second must be positive, got ", ticks_per_second);
  std::vector<char> seen(cores.empty() ? 0 : static_cast<std::size_t>(*std::max_element(cores.begin(), cores.end())) + 1,
                         0);
  std::vector<char> wanted(seen.size(), 0);
  for (const int c : cores) {
    FINFUSE_CHECK(c >= 0, "/proc/stat: core numbers are not negative, got ", c);
    wanted[static_cast<std::size_t>(c)] = 1;
  }
  double ticks = 0.0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    // "cpuN user nice system idle iowait irq softirq steal guest guest_nice"; the "cpu" line is the sum over all cores.
    if (line.size() < 4 || line.compare(0, 3, "cpu") != 0 || line[3] < '0' || line[3] > '9') {
      continue;
    }
    std::istringstream fields(line.substr(3));
    long core = -1;
    fields >> core;
    if (core < 0 || static_cast<std::size_t>(core) >= wanted.size() || !wanted[static_cast<std::size_t>(core)]) {
      continue;
    }
    unsigned long long value[8] = {};
    for (auto& v : value) {
      fields >> v;
    }
    FINFUSE_CHECK(!fields.fail(), "/proc/stat: expected 8 counters after cpu", core, ", got '", line, "'");
    // user, nice, system, irq, softirq, steal (guest time is part of user already); idle and iowait are not busy.
    ticks += static_cast<double>(value[0] + value[1] + value[2] + value[5] + value[6] + value[7]);
    seen[static_cast<std::size_t>(core)] = 1;
  }
  for (const int c : cores) {
    FINFUSE_CHECK(seen[static_cast<std::size_t>(c)], "/proc/stat: no line for cpu", c);
  }
  return ticks / static_cast<double>(ticks_per_second);
}

std::optional<CpuTimes> read_cpu_times() {
#if defined(__linux__)
  const std::vector<int> cores = affinity_cores();
  std::ifstream in("/proc/stat");
  if (!in || cores.empty()) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  timespec own{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &own) != 0) {
    return std::nullopt;
  }
  CpuTimes times;
  try {
    times.busy_seconds = busy_seconds_from_proc_stat(text.str(), cores, sysconf(_SC_CLK_TCK));
  } catch (const Error& e) {
    logger()->debug("thread budget: {}", e.what());
    return std::nullopt;
  }
  times.own_seconds = static_cast<double>(own.tv_sec) + static_cast<double>(own.tv_nsec) * 1e-9;
  times.cores = static_cast<int>(cores.size());
  times.at = std::chrono::steady_clock::now();
  return times;
#else
  return std::nullopt;
#endif
}

int budget_for_load(double others, int cores, int max_threads, int current) {
  max_threads = std::max(1, max_threads);
  const double free = static_cast<double>(cores) - std::max(0.0, others);
  const int fit = std::clamp(static_cast<int>(std::floor(free + 0.5)), 1, max_threads);
  if (fit < current) {
    return fit;
  }
  if (current < max_threads && free >= current + 0.75) {
    return std::clamp(static_cast<int>(std::floor(free + 0.25)), current + 1, max_threads);
  }
  return std::min(current, max_threads);
}

ThreadBudget::ThreadBudget(ThreadBudgetOptions options, Probe probe)
    : options_(options), probe_(std::move(probe)), threads_(std::max(1, options.max_threads())) {
  FINFUSE_CHECK(options_.max_threads() >= 1, "a thread budget needs at least 1 thread, got ",
                options_.max_threads());
  FINFUSE_CHECK(options_.interval().count() > 0, "the thread budget's interval must be positive, got ",
                options_.interval().count(), " ms");
}

int ThreadBudget::apply() {
  if (!options_.follow_load() && !options_.advise()) {
    return intra_op_threads();
  }
  const auto now = std::chrono::steady_clock::now();
  int budget;
  {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (lock.owns_lock() && now >= next_) {
      measure(now);
    }
    budget = threads_;
  }
  if (!options_.follow_load()) {
    return intra_op_threads();
  }
  if (intra_op_threads() != budget) {
    // Also LibTorch's default for threads started later and, in builds with MKL, MKL's count.
    at::set_num_threads(budget);
  }
  return budget;
}

void ThreadBudget::measure(std::chrono::steady_clock::time_point now) {
  next_ = now + options_.interval();
  auto sample = probe_ ? probe_() : std::nullopt;
  if (!sample) {
    return;
  }
  if (last_) {
    const double wall = std::chrono::duration<double>(sample->at - last_->at).count();
    if (wall > 0.0) {
      const double busy = sample->busy_seconds - last_->busy_seconds;
      const double own = sample->own_seconds - last_->own_seconds;
      others_ = std::max(0.0, (busy - own) / wall);
      if (!options_.follow_load()) {
        const int fit = budget_for_load(others_, sample->cores, options_.max_threads(), options_.max_threads());
        if (fit < options_.max_threads()) {
          logger()->warn(
              "other processes keep {:.1f} of this process's {} core(s) busy while it runs {} intra-op threads "
              "that spin-wait for each other: expect it (and them) to slow down several times over; set "
              "\"runtime\": {{\"num_threads\": {}}} for runs that share these cores (or follow_load true, which "
              "adapts the count, for runs that need not be deterministic)",
              others_, sample->cores, options_.max_threads(), fit);
          next_ = std::chrono::steady_clock::time_point::max();  // said once
        }
        last_ = sample;
        return;
      }
      const int proposed = budget_for_load(others_, sample->cores, options_.max_threads(), threads_);
      // Lower at once (contention costs most), raise only when two intervals in a row leave cores free.
      const bool change = proposed < threads_ || (proposed > threads_ && ++rise_votes_ >= 2);
      if (proposed <= threads_) {
        rise_votes_ = 0;
      }
      if (change) {
        const auto level = told_ ? spdlog::level::debug : spdlog::level::info;
        logger()->log(level,
                      "other processes kept {:.1f} of this process's {} core(s) busy: {} intra-op thread(s) instead "
                      "of {}, back up to {} as cores free up (\"runtime\": {{\"follow_load\": false}} keeps the "
                      "count constant)",
                      others_, sample->cores, proposed, threads_, options_.max_threads());
        told_ = true;
        threads_ = proposed;
        rise_votes_ = 0;
      }
    }
  }
  last_ = sample;
}

int ThreadBudget::threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_;
}

double ThreadBudget::others() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return others_;
}

namespace {

std::mutex& process_budget_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<ThreadBudget>& process_budget() {
  static std::shared_ptr<ThreadBudget> budget =
      std::make_shared<ThreadBudget>(ThreadBudgetOptions().follow_load(false).advise(false));
  return budget;
}

}  // namespace

ThreadBudget& process_thread_budget() {
  std::lock_guard<std::mutex> lock(process_budget_mutex());
  return *process_budget();
}

void set_process_thread_budget(ThreadBudgetOptions options) {
  auto replacement = std::make_shared<ThreadBudget>(options);
  std::lock_guard<std::mutex> lock(process_budget_mutex());
  // A replaced budget stays alive: a caller may still hold the reference process_thread_budget() gave it.
  static std::vector<std::shared_ptr<ThreadBudget>> retired;
  retired.push_back(std::move(process_budget()));
  process_budget() = std::move(replacement);
}

}  // namespace finfuse
