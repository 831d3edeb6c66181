#include "finfuse/core/runtime.h"

#include "finfuse/core/device.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"
#include "finfuse/core/thread_budget.h"
#include "finfuse/version.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <link.h>
#include <sched.h>
#endif

namespace finfuse {

bool operator==(const RuntimeOptions& a, const RuntimeOptions& b) {
  return a.device() == b.device() && a.seed() == b.seed() && a.deterministic() == b.deterministic() &&
         a.num_threads() == b.num_threads() && a.follow_load() == b.follow_load() && a.retain_memory() == b.retain_memory() &&
         a.log_level() == b.log_level();
}

std::vector<int> affinity_cores() {
  std::vector<int> cores;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) {
        cores.push_back(c);
      }
    }
  }
#endif
  return cores;
}

int available_cores() {
  if (const auto cores = affinity_cores(); !cores.empty()) {
    return static_cast<int>(cores.size());
  }
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? static_cast<int>(hardware) : 1;
}

std::string classify_blas(const std::string& resolved_path) {
  if (resolved_path.empty()) {
    return "none";
  }
  // The first part of the path that matches decides (Debian installs each BLAS under a folder of its own).
  static const std::pair<const char*, const char*> kinds[] = {
      {"openblas-openmp", "openblas-openmp"}, {"openblas-pthread", "openblas-pthread"}, {"openblas", "openblas"},
      {"/blas/libblas", "reference"},         {"mkl", "mkl"},                           {"blis", "blis"}};
  for (const auto& [part, kind] : kinds) {
    if (resolved_path.find(part) != std::string::npos) {
      return kind;
    }
  }
  return "other";
}

namespace {

// The path of the first loaded object whose file name starts with `prefix` ("" when none is).
std::string loaded_library(const std::string& prefix) {
  struct Search {
    const std::string& prefix;
    std::string path;
  } search{prefix, {}};
#if defined(__linux__)
  ::dl_iterate_phdr(
      [](struct dl_phdr_info* object, std::size_t, void* data) {
        auto& s = *static_cast<Search*>(data);
        const std::string name = object->dlpi_name != nullptr ? object->dlpi_name : "";
        const auto slash = name.rfind('/');
        if (name.compare(slash == std::string::npos ? 0 : slash + 1, s.prefix.size(), s.prefix) != 0) {
          return 0;
        }
        std::error_code error;
        const auto resolved = std::filesystem::canonical(name, error);
        s.path = error ? name : resolved.string();
        return 1;
      },
      &search);
#endif
  return search.path;
}

}  // namespace

BlasInfo blas_info() {
  BlasInfo info;
  info.path = loaded_library("libblas.so");
  info.kind = classify_blas(info.path);
  if (info.kind == "none") {
    // No system BLAS loaded: LibTorch may carry one inside libtorch_cpu (the torch wheel and the official zip link MKL
    // statically), which its build configuration names.
    const std::string config = at::show_config();
    const std::string key = "BLAS_INFO=";
    const auto at = config.find(key);
    if (at != std::string::npos) {
      const auto begin = at + key.size();
      const auto end = config.find_first_of(", \n", begin);
      const std::string built_in = config.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
      if (!built_in.empty()) {
        info.kind = built_in;
        info.path = loaded_library("libtorch_cpu.so");
      }
    }
  }
  return info;
}

// Builds with AddressSanitizer replace malloc: glibc's settings do not apply there.
#if defined(__SANITIZE_ADDRESS__)
#define FINFUSE_OWN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FINFUSE_OWN_ALLOCATOR 1
#endif
#endif

bool retain_freed_memory() {
#if defined(__GLIBC__) && !defined(FINFUSE_OWN_ALLOCATOR)
  // glibc serves blocks above the mmap threshold (128 KiB, adapting up to 32 MiB) with fresh mappings and unmaps
  // them when freed: a training step's activation buffers are then page-faulted in again at every step. Keeping
  // blocks up to 256 MiB in the heap, and trimming it only beyond 512 MiB free, lets the allocator reuse them.
  return ::mallopt(M_MMAP_THRESHOLD, 256 << 20) == 1 && ::mallopt(M_TRIM_THRESHOLD, 512 << 20) == 1;
#else
  return false;
#endif
}

void return_freed_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

namespace {

int resolve_threads(std::int64_t requested) {
  if (requested > 0) {
    return static_cast<int>(requested);
  }
  if (const char* omp = std::getenv("OMP_NUM_THREADS"); omp != nullptr && *omp != '\0') {
    char* end = nullptr;
    const long value = std::strtol(omp, &end, 10);
    if (end != omp && *end == '\0' && value > 0) {
      return static_cast<int>(value);
    }
    logger()->warn("OMP_NUM_THREADS='{}' is not a positive integer; ignoring it", omp);
  }
  // LibTorch's own default assumes hyper-threading and halves the core count.
  return available_cores();
}

}  // namespace

Runtime apply_runtime(const RuntimeOptions& options) {
  auto log_level = parse_log_level(options.log_level());
  if (auto from_env = log_level_from_environment()) {
    log_level = *from_env;
  }
  set_log_level(log_level);

  Runtime runtime;
  runtime.device = resolve_device(options.device());
  runtime.seed = options.seed();
  runtime.deterministic = options.deterministic();
  runtime.num_threads = resolve_threads(options.num_threads());

  at::set_num_threads(runtime.num_threads);
  runtime.follow_load = options.follow_load() && !runtime.deterministic;
  set_process_thread_budget(
      ThreadBudgetOptions().max_threads(runtime.num_threads).follow_load(runtime.follow_load).advise(runtime.num_threads > 1));
  runtime.retain_memory = options.retain_memory() && retain_freed_memory();
  seed_everything(runtime.seed);
  set_deterministic(runtime.deterministic);

  runtime.blas = blas_info();
  logger()->info("finfuse {} (LibTorch {}): device {}, {} CPU thread(s){}, BLAS {}, seed {}{}", version(), TORCH_VERSION,
                 device_string(runtime.device), runtime.num_threads,
                 runtime.follow_load && runtime.num_threads > 1 ? " (fewer while other processes use these cores)" : "",
                 runtime.blas.kind, runtime.seed,
                 runtime.deterministic ? ", deterministic" : "");
  if (runtime.blas.kind == "reference") {
    logger()->warn(
        "CPU matrix products go through the reference BLAS ({}), about 15x slower than OpenBLAS: install "
        "libopenblas0-openmp (scripts/install-deps.sh does) or select it with update-alternatives --set "
        "libblas.so.3-<arch> /usr/lib/<arch>/openblas-openmp/libblas.so.3",
        runtime.blas.path);
  } else if (runtime.blas.kind == "openblas-pthread") {
    logger()->warn(
        "CPU matrix products go through OpenBLAS's pthread build ({}), whose threads ignore the thread count and "
        "compete with LibTorch's own: prefer libopenblas0-openmp (update-alternatives --set libblas.so.3-<arch> "
        "/usr/lib/<arch>/openblas-openmp/libblas.so.3), or set OPENBLAS_NUM_THREADS=1",
        runtime.blas.path);
  }
  return runtime;
}

void RuntimeOptions::validate(const Config& config) const {
  try {
    // Only the spelling: whether the GPU exists is decided on the machine that applies the runtime.
    validate_device_spec(device());
  } catch (const Error& e) {
    config.fail_at("device", e.what());
  }
  try {
    parse_log_level(log_level());
  } catch (const Error& e) {
    config.fail_at("log_level", e.what());
  }
}

}  // namespace finfuse
