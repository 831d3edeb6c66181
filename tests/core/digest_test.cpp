#include "finfuse/core/digest.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace finfuse {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 incremental;
  incremental.update("ab").update("c");
  EXPECT_EQ(incremental.hex_digest(), sha256_hex("abc"));
  EXPECT_THROW(incremental.update("x"), Error);
}

TEST(Sha256, Files) {
  const auto path = std::filesystem::temp_directory_path() / "finfuse_digest_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 1000000; ++i) {
      out.put('a');
    }
  }
  // One million 'a': the FIPS 180-2 long vector, read across block boundaries.
  EXPECT_EQ(sha256_file(path), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  std::filesystem::remove(path);
  EXPECT_THROW(sha256_file(path), IoError);
}

}  // namespace
}  // namespace finfuse
