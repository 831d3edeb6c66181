// Locating the real data sets for integration tests: $FINFUSE_DATA_DIR, else ../shared/data next to the source
// tree. Tests that need them skip with a message saying what is missing.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace finfuse::testing {

inline std::filesystem::path shared_data_dir() {
  if (const char* env = std::getenv("FINFUSE_DATA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::filesystem::path(FINFUSE_SOURCE_DIR).parent_path() / "shared" / "data";
}

/// The path of `relative` under the shared data directory, or nothing when the file is absent.
inline std::optional<std::filesystem::path> shared_data_file(const std::string& relative) {
  const auto path = shared_data_dir() / relative;
  if (!std::filesystem::exists(path)) {
    return std::nullopt;
  }
  return path;
}

}  // namespace finfuse::testing

/// Skips the current test when the shared data file is missing.
#define FINFUSE_REQUIRE_SHARED_DATA(var, relative)                                                             \
  const auto var##_optional = ::finfuse::testing::shared_data_file(relative);                                  \
  if (!var##_optional) {                                                                                       \
    GTEST_SKIP() << "real data not found: " << (::finfuse::testing::shared_data_dir() / (relative)).string() \
                 << " (set FINFUSE_DATA_DIR to the folder holding the shared data sets)";                     \
  }                                                                                                            \
  const std::filesystem::path var = *var##_optional
