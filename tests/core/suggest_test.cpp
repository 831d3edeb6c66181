#include "finfuse/core/suggest.h"

#include <gtest/gtest.h>

namespace finfuse {
namespace {

TEST(EditDistance, HandComputedCases) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  // A transposition of adjacent characters is one edit.
  EXPECT_EQ(edit_distance("inof", "info"), 1u);
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);
}

TEST(ClosestMatch, FindsPlausibleMisspellings) {
  const std::vector<std::string> keys = {"hidden", "layers", "dropout", "activation"};
  EXPECT_EQ(closest_match("hiden", keys), "hidden");
  EXPECT_EQ(closest_match("dropuot", keys), "dropout");
  EXPECT_EQ(closest_match("Layers", keys), "layers");
  EXPECT_EQ(closest_match("zzzzzz", keys), std::nullopt);
  EXPECT_EQ(closest_match("x", {}), std::nullopt);
}

TEST(DidYouMean, FormatsSuggestion) {
  EXPECT_EQ(did_you_mean("lstn", {"lstm", "gru"}), " (did you mean 'lstm'?)");
  EXPECT_EQ(did_you_mean("transformer", {"lstm", "gru"}), "");
  EXPECT_EQ(quoted_list({"a", "b"}), "'a', 'b'");
  EXPECT_EQ(quoted_list({}), "(none)");
}

}  // namespace
}  // namespace finfuse
