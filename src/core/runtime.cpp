#include "finfuse/core/runtime.h"

#include "finfuse/core/device.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"
#include "finfuse/version.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <fmt/format.h>

#include <cstdlib>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

namespace finfuse {

RuntimeOptions RuntimeOptions::from_config(const Config& config) {
  RuntimeOptions options;
  options.device(config.get<std::string>("device", options.device()));
  try {
    // Only the spelling: whether the GPU exists is decided on the machine that applies the runtime.
    validate_device_spec(options.device());
  } catch (const Error& e) {
    config.fail_at("device", e.what());
  }
  options.seed(config.get<std::uint64_t>("seed", options.seed()));
  options.deterministic(config.get<bool>("deterministic", options.deterministic()));
  options.num_threads(config.get<std::int64_t>("num_threads", options.num_threads(), Range::closed(0, 4096)));
  options.log_level(config.get<std::string>("log_level", options.log_level()));
  try {
    parse_log_level(options.log_level());
  } catch (const Error& e) {
    config.fail_at("log_level", e.what());
  }
  config.reject_unknown_keys();
  return options;
}

Json RuntimeOptions::to_json() const {
  return Json{{"device", device()},
              {"seed", seed()},
              {"deterministic", deterministic()},
              {"num_threads", num_threads()},
              {"log_level", log_level()}};
}

bool operator==(const RuntimeOptions& a, const RuntimeOptions& b) {
  return a.device() == b.device() && a.seed() == b.seed() && a.deterministic() == b.deterministic() &&
         a.num_threads() == b.num_threads() && a.log_level() == b.log_level();
}

int available_cores() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) {
      return count;
    }
  }
#endif
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? static_cast<int>(hardware) : 1;
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
  seed_everything(runtime.seed);
  set_deterministic(runtime.deterministic);

  logger()->info("finfuse {} (LibTorch {}): device {}, {} CPU thread(s), seed {}{}", version(), TORCH_VERSION,
                 device_string(runtime.device), runtime.num_threads, runtime.seed,
                 runtime.deterministic ? ", deterministic" : "");
  return runtime;
}

}  // namespace finfuse
