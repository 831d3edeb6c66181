#include "finfuse/core/runtime.h"

#include "finfuse/core/device.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <gtest/gtest.h>

#include <cstdlib>

namespace finfuse {
namespace {

TEST(RuntimeOptions, DefaultsAndJsonRoundTrip) {
  const RuntimeOptions defaults = RuntimeOptions::from_config(Config());
  EXPECT_EQ(defaults.device(), "auto");
  EXPECT_EQ(defaults.seed(), 42u);
  EXPECT_FALSE(defaults.deterministic());
  EXPECT_EQ(defaults.num_threads(), 0);

  const RuntimeOptions custom =
      RuntimeOptions().device("cuda:1").seed(7).deterministic(true).num_threads(3).log_level("debug");
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

TEST(Runtime, CudaWithoutGpuFailsCleanly) {
  if (cuda_available()) {
    GTEST_SKIP() << "a CUDA device is present";
  }
  EXPECT_THROW(apply_runtime(RuntimeOptions().device("cuda").log_level("warn")), Error);
}

}  // namespace
}  // namespace finfuse
