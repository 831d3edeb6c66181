#include "finfuse/data/encoding.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

namespace finfuse::data {
namespace {

TEST(Utf8, ValidationFindsTheFirstBadByte) {
  EXPECT_EQ(find_invalid_utf8("plain ascii"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\x88"), std::nullopt);  // café € 📈
  EXPECT_EQ(find_invalid_utf8("caf\xE9!"), 3u);          // Latin-1 é
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(find_invalid_utf8("ab\xED\xA0\x80"), 2u);    // UTF-16 surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("x\xE2\x82"), 1u);         // truncated sequence
}

TEST(Latin1, ConvertsToUtf8) {
  EXPECT_EQ(latin1_to_utf8("caf\xE9"), "caf\xC3\xA9");
  EXPECT_EQ(latin1_to_utf8("\xA3" "5 \xB1" "1%"), "\xC2\xA3" "5 \xC2\xB1" "1%");
  EXPECT_EQ(find_invalid_utf8(latin1_to_utf8(std::string("\x80\xFF\x00\x7F", 4))), std::nullopt);
}

TEST(DecodeText, PoliciesAndByteOrderMarks) {
  EXPECT_EQ(decode_text("\xEF\xBB\xBFhello", EncodingPolicy::require_utf8, "f.txt"), "hello");
  bool converted = true;
  EXPECT_EQ(decode_text("ok", EncodingPolicy::latin1_fallback, "f.txt", &converted), "ok");
  EXPECT_FALSE(converted);
  EXPECT_EQ(decode_text("caf\xE9", EncodingPolicy::latin1_fallback, "f.txt", &converted), "caf\xC3\xA9");
  EXPECT_TRUE(converted);
  try {
    decode_text("line one\nsecond caf\xE9 line", EncodingPolicy::require_utf8, "news.txt");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.file(), "news.txt");
    EXPECT_EQ(e.record(), 2);
    EXPECT_NE(std::string(e.what()).find("byte 0xE9 at column 11 is not valid UTF-8"), std::string::npos) << e.what();
  }
  EXPECT_THROW(decode_text(std::string("\xFF\xFEh\0", 4), EncodingPolicy::latin1_fallback, "u16.txt"), DataError);
  EXPECT_EQ(parse_encoding_policy("latin1_fallback"), EncodingPolicy::latin1_fallback);
  EXPECT_THROW(parse_encoding_policy("latin9"), Error);
}

}  // namespace
}  // namespace finfuse::data
