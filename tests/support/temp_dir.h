// A fresh temporary folder per test: ctest runs tests in parallel processes, so fixtures must not share one.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace finfuse::testing {

inline std::filesystem::path unique_temp_dir(const std::string& prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = prefix + "_" + (info != nullptr ? std::string(info->test_suite_name()) + "_" + info->name()
                                                          : std::string("global")) +
                           "_" + std::to_string(::getpid());
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace finfuse::testing
