// Runtime options shared by every program that runs a model: device, seed, determinism, CPU threads and log
// level. Resolved once at start-up by apply_runtime(); the result is passed on, never kept in globals.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"

#include <c10/core/Device.h>
#include <torch/arg.h>

#include <cstdint>
#include <string>

namespace finfuse {

struct RuntimeOptions {
#define FINFUSE_RUNTIME_FIELDS(F)                                                                                 \
  F(std::string, device, "auto", {}, "auto, cpu, cuda or cuda:N")                                                 \
  F(std::uint64_t, seed, 42, {}, "seeds LibTorch and every data-side random stream")                              \
  F(bool, deterministic, false, {}, "deterministic algorithms (bit-identical reruns on the same machine)")        \
  F(std::int64_t, num_threads, 0, ::finfuse::Range::closed(0, 4096),                                              \
    "intra-op CPU threads; 0 picks OMP_NUM_THREADS when set, otherwise every core this process may use")         \
  F(bool, follow_load, true, {},                                                                                  \
    "treat num_threads as a ceiling: fewer intra-op threads while other processes keep this process's cores "    \
    "busy, more again as they free up (see ThreadBudget); off for deterministic runs")                           \
  F(bool, retain_memory, true, {},                                                                                \
    "keep freed tensor buffers (up to 256 MiB each) in the heap for reuse instead of returning them to the "     \
    "system (glibc only): 15-30% faster training steps on CPU")                                                  \
  F(std::string, log_level, "info", {},                                                                           \
    "trace, debug, info, warn, error, critical, off (FINFUSE_LOG_LEVEL in the environment takes precedence)")
  FINFUSE_OPTIONS(RuntimeOptions, FINFUSE_RUNTIME_FIELDS)
#undef FINFUSE_RUNTIME_FIELDS

  /// Checks the device's spelling and the log level.
  void validate(const Config& config) const;
};


bool operator==(const RuntimeOptions& a, const RuntimeOptions& b);

/// The BLAS library LibTorch's CPU matrix products go through: the system's libblas.so.3 as loaded in this process.
struct BlasInfo {
  /// The resolved file of the loaded libblas, or libtorch_cpu's for a BLAS built into LibTorch (empty when none).
  std::string path;
  /// "openblas-openmp", "openblas-pthread", "openblas", "reference", "mkl", "blis", "other" or "none"; for a LibTorch
  /// with its BLAS built in (the torch wheel, the official zip), the BLAS_INFO of its build configuration ("mkl").
  std::string kind;
};

/// What a libblas path is, from its resolved file name (Debian's alternatives layout).
std::string classify_blas(const std::string& resolved_path);
/// The BLAS loaded in this process.
BlasInfo blas_info();

/// The resolved runtime.
struct Runtime {
  c10::Device device{c10::DeviceType::CPU};
  std::uint64_t seed = 0;
  bool deterministic = false;
  int num_threads = 1;
  /// Whether the thread count follows other processes' load (process_thread_budget()).
  bool follow_load = false;
  /// Whether freed memory is kept for reuse (retain_memory, where the C library supports it).
  bool retain_memory = false;
  BlasInfo blas;
};

/// Makes the C library keep freed blocks of up to 256 MiB for reuse (glibc's mmap and trim thresholds); returns
/// whether it could (not under AddressSanitizer, whose allocator replaces glibc's). Applied by apply_runtime() unless retain_memory is off.
bool retain_freed_memory();
/// Hands the heap's free pages back to the system (glibc's malloc_trim; nothing elsewhere): for a step that has just
/// freed much memory that the process will not need again soon, which the thresholds above would otherwise keep.
void return_freed_memory();

/// Number of CPU cores this process may run on (its affinity mask), at least 1.
int available_cores();

/// Resolves the device, seeds every generator, sets determinism, the thread count (and the process's thread budget)
/// and the log level, and logs
/// a one-line summary; warns when matrix products would go through the reference BLAS (about 15x slower than
/// OpenBLAS) or OpenBLAS's pthread build (its threads ignore the thread count and oversubscribe the cores next to
/// ATen's OpenMP pool). Throws finfuse::Error for an unusable device or log level.
Runtime apply_runtime(const RuntimeOptions& options);

}  // namespace finfuse
