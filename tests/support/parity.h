// Reference files written by tests/parity/make_references.py with Python PyTorch; ctest passes their folder in
// FINFUSE_PARITY_DIR. Parity tests skip (and the ctest case that requires all of them fails) without them.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace finfuse::testing {

inline std::filesystem::path parity_dir() {
  const char* dir = std::getenv("FINFUSE_PARITY_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path();
}

}  // namespace finfuse::testing

#define FINFUSE_REQUIRE_PARITY_FILES(name)                                                                        \
  if (::finfuse::testing::parity_dir().empty() ||                                                                 \
      !std::filesystem::exists(::finfuse::testing::parity_dir() / (name))) {                                      \
    GTEST_SKIP() << "Python reference files not available (ctest runs this with FINFUSE_PARITY_DIR after "        \
                    "make_references.py, which needs Debian's python3-torch and python3-torchvision)";           \
  }
