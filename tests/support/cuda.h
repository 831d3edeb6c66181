// CUDA tests: their names end in _CUDA, ctest runs them as the `cuda` test (label `cuda`), and each starts with
// FINFUSE_REQUIRE_CUDA(). Where no GPU is visible they skip, and ctest reports the `cuda` test as skipped. Where a GPU
// is visible to the system but LibTorch cannot use it (a CUDA build with a broken driver, say), they fail instead:
// no CUDA test passes by skipping on a machine that has a GPU.
#pragma once

#include "finfuse/core/device.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace finfuse::test {

/// Whether the system shows an NVIDIA GPU (its device node), whatever LibTorch makes of it.
inline bool gpu_present() { return std::filesystem::exists("/dev/nvidia0"); }

}  // namespace finfuse::test

#ifdef FINFUSE_WITH_CUDA
#define FINFUSE_TEST_CUDA_BUILD true
#else
#define FINFUSE_TEST_CUDA_BUILD false
#endif

#define FINFUSE_REQUIRE_CUDA()                                                                                    \
  do {                                                                                                            \
    if (!::finfuse::cuda_available()) {                                                                           \
      if (FINFUSE_TEST_CUDA_BUILD && ::finfuse::test::gpu_present()) {                                            \
        FAIL() << "a GPU is present (/dev/nvidia0) but this CUDA build of LibTorch cannot use it";                \
      }                                                                                                           \
      GTEST_SKIP() << (FINFUSE_TEST_CUDA_BUILD ? "no CUDA device on this machine"                                 \
                                               : "this LibTorch is built without CUDA");                          \
    }                                                                                                             \
  } while (false)
