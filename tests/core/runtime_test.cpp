#include "finfuse/core/runtime.h"

#include "finfuse/core/device.h"
#include "core/intra_op_threads.h"
#include "finfuse/core/logging.h"

#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <torch/types.h>

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace finfuse {
namespace {

TEST(RuntimeOptions, DefaultsAndJsonRoundTrip) {
  const RuntimeOptions defaults = RuntimeOptions::from_config(Config());
  EXPECT_EQ(defaults.device(), "auto");
  EXPECT_EQ(defaults.seed(), 42u);
  EXPECT_FALSE(defaults.deterministic());
  EXPECT_EQ(defaults.num_threads(), 0);
  EXPECT_TRUE(defaults.retain_memory());
  EXPECT_TRUE(defaults.follow_load());

  const RuntimeOptions custom = RuntimeOptions().device("cuda:1").seed(7).deterministic(true).num_threads(3).follow_load(
      false).retain_memory(false).log_level("debug");
  EXPECT_EQ(RuntimeOptions::from_config(Config(custom.to_json())), custom);
}

TEST(RuntimeOptions, BadValuesNameTheirKey) {
  const auto error_of = [](const std::string& text) -> std::string {
    try {
      RuntimeOptions::from_config(Config::parse(text, "run.json"));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of(R"({"device": "gpu"})"),
            "run.json: /device: invalid device 'gpu': expected 'auto', 'cpu', 'cuda' or 'cuda:N'");
  EXPECT_EQ(error_of(R"({"num_threads": -1})"), "run.json: /num_threads: must be in [0, 4096], got -1");
  EXPECT_EQ(error_of(R"({"seeed": 1})").rfind("run.json: /seeed: unknown key 'seeed' (did you mean 'seed'?)", 0), 0u);
  EXPECT_NE(error_of(R"({"log_level": "loud"})").find("/log_level: invalid log level 'loud'"), std::string::npos);
}

TEST(Runtime, ApplySetsThreadsSeedAndDevice) {
  ::unsetenv("FINFUSE_LOG_LEVEL");
  const int before = at::get_num_threads();
  const Runtime runtime = apply_runtime(RuntimeOptions().device("cpu").seed(99).num_threads(1).log_level("warn"));
  EXPECT_EQ(runtime.device, c10::Device(c10::DeviceType::CPU));
  EXPECT_EQ(runtime.num_threads, 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  const auto a = torch::rand({4});
  apply_runtime(RuntimeOptions().device("cpu").seed(99).num_threads(1).log_level("warn"));
  EXPECT_TRUE(torch::equal(a, torch::rand({4})));
  at::set_num_threads(before);
}

TEST(Runtime, AutomaticThreadCountUsesAvailableCoresOrOmpNumThreads) {
  ::unsetenv("FINFUSE_LOG_LEVEL");
  const int before = at::get_num_threads();
  const char* omp = std::getenv("OMP_NUM_THREADS");
  const std::string saved = omp != nullptr ? omp : "";
  ::unsetenv("OMP_NUM_THREADS");
  EXPECT_EQ(apply_runtime(RuntimeOptions().device("cpu").log_level("warn")).num_threads, available_cores());
  ::setenv("OMP_NUM_THREADS", "1", 1);
  EXPECT_EQ(apply_runtime(RuntimeOptions().device("cpu").log_level("warn")).num_threads, 1);
  if (omp != nullptr) {
    ::setenv("OMP_NUM_THREADS", saved.c_str(), 1);
  } else {
    ::unsetenv("OMP_NUM_THREADS");
  }
  at::set_num_threads(before);
  EXPECT_GE(available_cores(), 1);
}

TEST(Runtime, ClassifiesBlasLibraries) {
  EXPECT_EQ(classify_blas("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"), "openblas-openmp");
  EXPECT_EQ(classify_blas("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"), "openblas-pthread");
  EXPECT_EQ(classify_blas("/usr/lib/aarch64-linux-gnu/blas/libblas.so.3.11.0"), "reference");
  EXPECT_EQ(classify_blas("/usr/lib/x86_64-linux-gnu/libmkl_rt.so"), "mkl");
  EXPECT_EQ(classify_blas("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3"), "blis");
  EXPECT_EQ(classify_blas("/opt/custom/libblas.so.3"), "other");
  EXPECT_EQ(classify_blas(""), "none");
}

// Also run by ctest with the reference BLAS forced through LD_LIBRARY_PATH (FINFUSE_EXPECT_BLAS=reference).
TEST(Runtime, ReportsTheBlasAndWarnsAboutSlowOnes) {
  const BlasInfo blas = blas_info();
  if (const char* expected = std::getenv("FINFUSE_EXPECT_BLAS")) {
    EXPECT_EQ(blas.kind, expected) << blas.path;
  }
  if (blas.kind != "none") {
    EXPECT_TRUE(std::filesystem::exists(blas.path)) << blas.path;
  }
  const auto previous = logger();
  std::ostringstream captured;
  set_logger(std::make_shared<spdlog::logger>("finfuse", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  const auto runtime = apply_runtime(RuntimeOptions().device("cpu").log_level("info"));
  logger()->flush();
  set_logger(previous);
  EXPECT_EQ(runtime.blas.kind, blas.kind);
  EXPECT_NE(captured.str().find("BLAS " + blas.kind), std::string::npos) << captured.str();
  const bool slow = blas.kind == "reference" || blas.kind == "openblas-pthread";
  EXPECT_EQ(captured.str().find("[warning]") != std::string::npos, slow) << captured.str();
  if (blas.kind == "reference") {
    EXPECT_NE(captured.str().find("about 15x slower than OpenBLAS: install libopenblas0-openmp"), std::string::npos)
        << captured.str();
  }
}

#if defined(__SANITIZE_ADDRESS__)
#define FINFUSE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FINFUSE_TEST_ASAN 1
#endif
#endif

TEST(Runtime, RetainedMemoryIsReusedWithoutPageFaults) {
#if defined(FINFUSE_TEST_ASAN)
  EXPECT_FALSE(retain_freed_memory());
  GTEST_SKIP() << "AddressSanitizer's allocator replaces glibc's";
#elif defined(__GLIBC__)
  ASSERT_TRUE(retain_freed_memory());
  const auto minor_faults = [] {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
  };
  // A step's buffer: 64 MiB from LibTorch's CPU allocator, written and freed, over and over. Without retention each
  // is a fresh mapping (64 MiB is above glibc's largest dynamic mmap threshold) that faults in all of its 16,384 pages
  // again; with it the heap keeps the block and every step reuses it. The block is taken from the allocator itself,
  // not through a tensor op: the small allocations an op makes between two steps can carve the freed block and make
  // the heap grow, which would measure the op's allocation pattern rather than retention.
  constexpr std::size_t bytes = std::size_t{64} << 20;
  std::vector<long> faults;
  const auto step = [&] {
    const auto before = minor_faults();
    {
      const c10::DataPtr buffer = c10::GetCPUAllocator()->allocate(bytes);
      std::memset(buffer.get(), 1, bytes);
    }
    return static_cast<long>(minor_faults() - before);
  };
  for (int i = 0; i < 4; ++i) {
    step();
  }
  // Without retention every step faults. With it, a loaded machine (CI running other tests next to this one) has
  // been seen to fault a few steps in a row all the same, so the test asks for most steps, not all, to reuse the block.
  constexpr int steps = 40;
  int faulting = 0;
  for (int i = 0; i < steps; ++i) {
    faults.push_back(step());
    faulting += faults.back() > 1000 ? 1 : 0;
  }
  EXPECT_LE(faulting, steps / 2) << "of " << steps << " steps faulted their buffer in again; minor faults per step: "
                                 << fmt::format("{}", fmt::join(faults, " "));
#else
  GTEST_SKIP() << "retain_memory needs glibc";
#endif
}

TEST(Runtime, CudaWithoutGpuFailsCleanly) {
  if (cuda_available()) {
    GTEST_SKIP() << "a CUDA device is present";
  }
  EXPECT_THROW(apply_runtime(RuntimeOptions().device("cuda").log_level("warn")), Error);
}

}  // namespace
}  // namespace finfuse

TEST(IntraOpThreads, ScopedCountChangesThisThreadOnlyAndIsRestored) {
  const int before = at::get_num_threads();
  at::set_num_threads(3);
  {
    const finfuse::ScopedIntraOpThreads one(1);
    EXPECT_EQ(finfuse::intra_op_threads(), 1);
    EXPECT_EQ(at::get_num_threads(), 1);
    int elsewhere = 0;
    std::thread other([&] { elsewhere = at::get_num_threads(); });
    other.join();
    EXPECT_EQ(elsewhere, 3) << "a new thread keeps the process default";
    {
      const finfuse::ScopedIntraOpThreads two(2);
      EXPECT_EQ(finfuse::intra_op_threads(), 2);
    }
    EXPECT_EQ(finfuse::intra_op_threads(), 1);
  }
  EXPECT_EQ(finfuse::intra_op_threads(), 3);
  {
    const finfuse::ScopedIntraOpThreads at_least_one(0);
    EXPECT_EQ(finfuse::intra_op_threads(), 1);
  }
  at::set_num_threads(before);
}
