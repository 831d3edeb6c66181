#include "finfuse/core/device.h"

#include "finfuse/core/error.h"
#include "support/cuda.h"

#include <torch/types.h>

#include <gtest/gtest.h>

namespace finfuse {
namespace {

TEST(Device, CpuAndAuto) {
  EXPECT_EQ(resolve_device("cpu"), c10::Device(c10::DeviceType::CPU));
  EXPECT_EQ(resolve_device(" CPU "), c10::Device(c10::DeviceType::CPU));
  const c10::Device automatic = resolve_device("auto");
  if (cuda_available()) {
    EXPECT_EQ(automatic, c10::Device(c10::DeviceType::CUDA, 0));
  } else {
    EXPECT_EQ(automatic, c10::Device(c10::DeviceType::CPU));
  }
  EXPECT_EQ(device_string(resolve_device("cpu")), "cpu");
}

TEST(Device, MalformedSpecificationsAreErrors) {
  for (const char* bad : {"gpu", "", "cuda:", "cuda:x", "cuda:-1", "cuda0", "cpu:0", "cuda:1:2"}) {
    try {
      resolve_device(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected 'auto', 'cpu', 'cuda' or 'cuda:N'"), std::string::npos)
          << e.what();
    }
    EXPECT_THROW(validate_device_spec(bad), Error);
  }
  EXPECT_NO_THROW(validate_device_spec("cuda:3"));
}

TEST(Device, CudaWhereNoneExistsIsAClearError) {
  if (cuda_available()) {
    GTEST_SKIP() << "a CUDA device is present; this test covers CPU-only machines";
  }
  try {
    resolve_device("cuda");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("device 'cuda' was requested but CUDA is not available"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(resolve_device("cuda:1"), Error);
}

TEST(Device, EachRankOfADistributedJobGetsItsOwnGpu) {
  // Against a given number of GPUs, so that the rule is checked on machines without any.
  const auto cuda = [](int index) { return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index)); };
  EXPECT_EQ(resolve_device("auto", 4, 2), cuda(2));
  EXPECT_EQ(resolve_device("cuda", 4, 3), cuda(3));
  EXPECT_EQ(resolve_device("cuda", 4, std::nullopt), cuda(0));
  EXPECT_EQ(resolve_device("auto", 2, std::nullopt), cuda(0));
  EXPECT_EQ(resolve_device("cuda:1", 4, 3), cuda(1));  // named by the configuration: kept
  EXPECT_EQ(resolve_device("cpu", 4, 3), c10::Device(c10::DeviceType::CPU));
  EXPECT_EQ(resolve_device("auto", 0, 1), c10::Device(c10::DeviceType::CPU));
  try {
    resolve_device("cuda", 2, 2);
    FAIL() << "a third local rank on a node with two GPUs";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LOCAL_RANK=2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2 CUDA device(s)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_device("cuda", 0, 0), Error);
  EXPECT_THROW(resolve_device("cuda:4", 4, 0), Error);
  EXPECT_THROW(resolve_device("gpu", 4, 0), Error);
}

TEST(Device, ResolvesVisibleDevices_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  const int count = cuda_device_count();
  EXPECT_EQ(resolve_device("cuda"), c10::Device(c10::DeviceType::CUDA, 0));
  EXPECT_EQ(resolve_device("cuda:" + std::to_string(count - 1)),
            c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(count - 1)));
  try {
    resolve_device("cuda:" + std::to_string(count));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA device(s) are visible"), std::string::npos) << e.what();
  }
  const auto t = torch::ones({2, 2}, torch::TensorOptions().device(resolve_device("auto")));
  EXPECT_TRUE(t.is_cuda());
}

}  // namespace
}  // namespace finfuse
