// Data-parallel training over several processes on PyTorch's own distributed engine (c10d): a TCPStore rendezvous
// from torchrun's environment variables, a Gloo process group on CPU (NCCL on CUDA where LibTorch was built with it),
// parameters broadcast from rank 0 at the start, gradients averaged across ranks after every backward pass (bucketed,
// asynchronous all-reduces), per-rank sums reduced, and stop decisions agreed on.
//
//   RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT    (set by `finfuse launch` or torchrun)
//
// or, where these are unset, an srun job step's own variables (training/slurm.h).
//
// Configuration: the run configuration's optional "distributed" section, DistributedOptions below.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/training/trainer.h"

#include <c10/core/Device.h>
#include <torch/types.h>
#include <torch/version.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace c10d {
#if TORCH_VERSION_MAJOR >= 2
class Backend;  // ProcessGroupGloo and ProcessGroupNCCL are backends of a ProcessGroup since LibTorch 2.0
#else
class ProcessGroup;
#endif
class Store;
}  // namespace c10d

namespace finfuse::training {

/// Where this process sits in a distributed job, from torchrun-style environment variables.
struct DistributedEnv {
  std::int64_t rank = 0;
  std::int64_t world_size = 1;
  std::int64_t local_rank = 0;
  std::int64_t local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  std::int64_t master_port = 29500;
  /// The host whose address this process's Gloo connections use (a SLURM task's node); empty: the loopback address
  /// when the rendezvous is on this machine, the address of this machine's host name otherwise. GLOO_SOCKET_IFNAME
  /// (a network interface) overrides both.
  std::string node_addr;
  /// Where the values came from: "torchrun" (RANK, WORLD_SIZE, ...) or "SLURM" (an srun job step).
  std::string source = "torchrun";

  /// The job this process belongs to: from WORLD_SIZE and the other torchrun variables when WORLD_SIZE is set,
  /// otherwise from an srun job step of more than one task (SlurmStep); nothing for a single-process run. Throws
  /// DistributedError naming the variable for values that are missing, not numbers or inconsistent.
  static std::optional<DistributedEnv> from_environment();
};

struct DistributedOptions {
#define FINFUSE_DISTRIBUTED_FIELDS(F)                                                                              \
  F(std::string, backend, "auto", ::finfuse::FieldRule::one_of({"auto", "gloo", "nccl"}),                          \
    "auto: NCCL for CUDA where LibTorch has it, Gloo otherwise")                                                   \
  F(double, timeout_s, 300.0, ::finfuse::Range::closed(1, 86400),                                                  \
    "how long the rendezvous and each collective wait for the other ranks, in seconds")                            \
  F(double, bucket_mb, 25.0, ::finfuse::Range::closed(0.001, 4096),                                                \
    "gradients are averaged in all-reduces of about this many MiB")
  FINFUSE_FIELDS(DistributedOptions, FINFUSE_DISTRIBUTED_FIELDS)
#undef FINFUSE_DISTRIBUTED_FIELDS

  /// timeout_s as the duration c10d takes.
  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000.0));
  }
};

/// A process group and the trainer's view of it. Every method is a collective: all ranks call it in the same order.
/// Transport failures (a rank died, a timeout) become DistributedError naming the operation.
class DistributedContext : public GradientSync {
 public:
  /// Rendezvous with the other ranks (rank 0 hosts the TCPStore at MASTER_ADDR:MASTER_PORT) and creates the process
  /// group for `device`. Throws DistributedError when the others do not arrive within the timeout.
  static std::shared_ptr<DistributedContext> connect(const DistributedEnv& env, const DistributedOptions& options,
                                                     const c10::Device& device);
  ~DistributedContext() override;

  std::int64_t rank() const override { return env_.rank; }
  std::int64_t world_size() const override { return env_.world_size; }
  const DistributedEnv& env() const { return env_; }
  /// "gloo" or "nccl".
  const std::string& backend() const { return backend_; }

  /// Averages the gradients of `parameters` across ranks, in buckets. A parameter that has no gradient on some ranks
  /// counts as zero there; one that has none anywhere keeps none (as in a single process).
  void synchronize(const std::vector<torch::Tensor>& parameters) override;
  double sum(double value) override;
  bool any(bool value) override;
  /// Overwrites `tensors` on every rank with rank 0's values.
  void broadcast(const std::vector<torch::Tensor>& tensors) override;
  /// Waits until every rank has arrived.
  void barrier(const std::string& what);

 private:
  DistributedContext(DistributedEnv env, DistributedOptions options, std::string backend, c10::Device device);
  /// Runs a collective, turning transport errors into DistributedError.
  template <typename F>
  void guarded(const std::string& what, F&& collective);

  DistributedEnv env_;
  DistributedOptions options_;
  std::string backend_;
  c10::Device device_;
  c10::intrusive_ptr<c10d::Store> store_;
#if TORCH_VERSION_MAJOR >= 2
  using Group = c10d::Backend;
#else
  using Group = c10d::ProcessGroup;
#endif
  c10::intrusive_ptr<Group> group_;
  std::int64_t collectives_ = 0;
};

}  // namespace finfuse::training
