#include "finfuse/training/stop_signal.h"

#include <fmt/format.h>

#include <atomic>
#include <mutex>

#include <signal.h>

namespace finfuse::training {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free atomic");

constexpr int kSignals[] = {SIGTERM, SIGINT};

// Handlers in place (StopOnSignal may nest: the outermost installs, the last one gone restores).
std::mutex g_mutex;
int g_installed = 0;
struct sigaction g_previous[2];

extern "C" void on_stop_signal(int signal) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, signal)) {
    // The second signal: end the process as the signal would without the handler (sigaction and raise are
    // async-signal-safe).
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    ::sigaction(signal, &fallback, nullptr);
    ::raise(signal);
  }
}

}  // namespace

StopOnSignal::StopOnSignal() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_installed++ > 0) {
    return;
  }
  g_signal.store(0);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and waits of the loader's threads carry on
  for (int i = 0; i < 2; ++i) {
    ::sigaction(kSignals[i], &action, &g_previous[i]);
  }
}

StopOnSignal::~StopOnSignal() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (--g_installed > 0) {
    return;
  }
  for (int i = 0; i < 2; ++i) {
    ::sigaction(kSignals[i], &g_previous[i], nullptr);
  }
  g_signal.store(0);
}

int stop_signal() noexcept { return g_signal.load(std::memory_order_relaxed); }

std::string signal_name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return fmt::format("signal {}", signal);
  }
}

StoppedBySignal::StoppedBySignal(int signal, const std::string& stop_reason, const std::filesystem::path& checkpoint)
    : Error(checkpoint.empty() ? fmt::format("{}; no checkpoint was written (the run has no folder, or it stopped "
                                             "before its first step)",
                                             stop_reason)
                               : fmt::format("{}; the checkpoint to resume from is {}", stop_reason,
                                             checkpoint.string())),
      signal_(signal),
      checkpoint_(checkpoint) {}

}  // namespace finfuse::training
