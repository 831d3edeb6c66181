// `finfuse launch`: starts one process per local rank of a distributed job with torchrun's environment variables
// (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, and OMP_NUM_THREADS dividing the
// cores), watches them, and ends the job when one fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::cli {

struct LaunchOptions {
  /// Processes on this machine.
  std::int64_t nproc = 1;
  /// Machines in the job and this machine's index among them.
  std::int64_t nnodes = 1;
  std::int64_t node_rank = 0;
  /// Host of rank 0 (the rendezvous) and its port; port 0 picks a free one (single-machine jobs only).
  std::string master_addr = "127.0.0.1";
  std::int64_t master_port = 0;
  /// After one rank fails, how long the others get to end by themselves (they see the failure in their next
  /// collective) before they are terminated.
  double grace_seconds = 30.0;
};

/// Runs `command` (program and arguments, the program looked up in PATH) as every local rank and waits for all of
/// them. Returns 0 when every rank succeeded, otherwise the exit code of the first rank that failed (128 + signal
/// for a rank killed by a signal). Throws finfuse::Error for bad options or a program that cannot be started.
int launch(const LaunchOptions& options, const std::vector<std::string>& command);

}  // namespace finfuse::cli
