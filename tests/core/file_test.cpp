#include "finfuse/core/file.h"

#include "finfuse/core/error.h"

#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
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

// The kB of the process's resident set in the mapping that holds `address` (/proc/self/smaps), or -1.
long resident_kb_of_mapping(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  while (std::getline(smaps, line)) {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
    } else if (inside && line.rfind("Rss:", 0) == 0) {
      return std::stol(line.substr(4));
    }
  }
  return -1;
}

// drop_pages lets the pages a part of the mapping touches go from the process's resident set, leaves the bytes as
// they were, and does nothing to bytes outside the mapping.
TEST(MappedFile, DropsThePagesOfAPartAndKeepsItsBytes) {
  const auto dir = ::finfuse::testing::unique_temp_dir("finfuse_mapped_file_drop_test");
  std::filesystem::create_directories(dir);
  std::string contents(std::size_t{4} << 20, '\0');
  for (std::size_t i = 0; i < contents.size(); ++i) {
    contents[i] = static_cast<char>(i * 13 % 251);
  }
  std::ofstream(dir / "data.bin", std::ios::binary) << contents;
  const MappedFile mapped(dir / "data.bin", "a test file");
  const std::string_view bytes = mapped.bytes();
  EXPECT_TRUE(mapped.contains(bytes));
  EXPECT_TRUE(mapped.contains(bytes.substr(bytes.size())));
  EXPECT_TRUE(mapped.contains(bytes.substr(100, 5000)));
  EXPECT_FALSE(mapped.contains(std::string_view(bytes.data() + 1, bytes.size())));
  EXPECT_FALSE(mapped.contains(contents));
  EXPECT_FALSE(MappedFile().contains(std::string_view()));

  EXPECT_EQ(bytes, contents);  // every page touched
  const long touched = resident_kb_of_mapping(bytes.data());
  if (touched < 0) {
    GTEST_SKIP() << "no /proc/self/smaps to read the resident set from";
  }
  EXPECT_GE(touched, 4096);
  // The first half (and the page it ends in) goes; the rest stays.
  mapped.drop_pages(bytes.substr(0, bytes.size() / 2 - 10));
  const long half = resident_kb_of_mapping(bytes.data());
  EXPECT_LE(half, 2048 + 64);
  EXPECT_GE(half, 2048 - 64);
  mapped.drop_pages(bytes);
  EXPECT_EQ(resident_kb_of_mapping(bytes.data()), 0);
  EXPECT_EQ(bytes, contents);  // read again from the file

  // Bytes of another buffer are left alone.
  const std::string copy = contents;
  mapped.drop_pages(contents);
  EXPECT_EQ(contents, copy);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse
