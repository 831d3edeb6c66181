#include "finfuse/core/file.h"

#include "finfuse/core/error.h"

#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

namespace finfuse {
namespace {

TEST(MappedFile, MapsTheWholeFileAndErrorsNameThePath) {
  const auto dir = ::finfuse::testing::unique_temp_dir("finfuse_mapped_file_test");
  std::filesystem::create_directories(dir);
  std::string contents;
  for (int i = 0; i < 100000; ++i) {
    contents += static_cast<char>(i * 7 % 256);
  }
  std::ofstream(dir / "data.bin", std::ios::binary) << contents;
  std::ofstream(dir / "empty.bin", std::ios::binary).flush();

  MappedFile mapped(dir / "data.bin", "a test file");
  EXPECT_EQ(mapped.size(), contents.size());
  EXPECT_EQ(mapped.bytes(), contents);
  EXPECT_EQ(read_file(dir / "data.bin"), std::string(mapped.bytes()));
  // Moving hands the mapping over; the moved-from object holds nothing.
  MappedFile moved = std::move(mapped);
  EXPECT_EQ(moved.bytes(), contents);
  EXPECT_EQ(mapped.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_TRUE(mapped.bytes().empty());
  moved = MappedFile(dir / "empty.bin");
  EXPECT_EQ(moved.size(), 0u);

  try {
    MappedFile missing(dir / "missing.bin", "a test file");
    ADD_FAILURE() << "expected an IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.bin"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
  try {
    MappedFile folder(dir, "a test file");
    ADD_FAILURE() << "expected an IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory, expected a test file"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse
