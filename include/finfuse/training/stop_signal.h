// Stopping a training run cleanly on SIGTERM or SIGINT: a batch scheduler's preemption notice (SLURM, Kubernetes
// send SIGTERM before they kill), or Ctrl-C at a terminal.
//
// While a StopOnSignal lives, the first SIGTERM or SIGINT asks every Trainer of the process to stop after its
// current optimisation step: the trainer writes a checkpoint there (when it has a folder), returns from fit() with
// FitResult::signal set, and train_and_evaluate() throws StoppedBySignal naming the checkpoint. `finfuse train`,
// `tune` and `walk-forward` then exit with status 128 + the signal (143 for SIGTERM, 130 for SIGINT), and
// `finfuse train --resume` continues from that step with the same results as a run never stopped. A second signal
// ends the process at once, as it would without the handler.
//
//   training::StopOnSignal stop_on_signal;          // for the lifetime of the run
//   try { experiment.run(device); }
//   catch (const training::StoppedBySignal& e) { return 128 + e.signal(); }
#pragma once

#include "finfuse/core/error.h"

#include <filesystem>
#include <string>

namespace finfuse::training {

class StopOnSignal {
 public:
  /// Installs the handlers of SIGTERM and SIGINT and clears a signal received before.
  StopOnSignal();
  /// Puts back the handlers that were there before and forgets the signal (the last of nested ones).
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
};

/// The signal that asked this process to stop while a StopOnSignal is installed (SIGTERM or SIGINT), 0 if none.
int stop_signal() noexcept;

/// "SIGTERM", "SIGINT", or "signal <n>".
std::string signal_name(int signal);

/// A run stopped by a signal after its checkpoint was written.
class StoppedBySignal : public Error {
 public:
  StoppedBySignal(int signal, const std::string& stop_reason, const std::filesystem::path& checkpoint);

  int signal() const noexcept { return signal_; }
  /// The checkpoint to resume from (empty when the run had no folder or stopped before its first one).
  const std::filesystem::path& checkpoint() const noexcept { return checkpoint_; }

 private:
  int signal_;
  std::filesystem::path checkpoint_;
};

}  // namespace finfuse::training
