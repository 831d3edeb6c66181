#include "finfuse/core/check.h"

#include <gtest/gtest.h>

namespace finfuse {
namespace {

int checked_positive(int n) {
  FINFUSE_CHECK(n > 0, "n must be > 0, got ", n);
  return n;
}

TEST(Check, PassesThroughWhenTrue) { EXPECT_EQ(checked_positive(3), 3); }

TEST(Check, ThrowsErrorWithStreamedMessageAndLocation) {
  try {
    checked_positive(-2);
    FAIL() << "expected finfuse::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("n must be > 0, got -2"), std::string::npos) << what;
    EXPECT_NE(what.find("check `n > 0` failed at check_test.cpp:"), std::string::npos) << what;
    EXPECT_EQ(what.find("/work/"), std::string::npos) << "no absolute paths: " << what;
  }
}

TEST(Check, ShapeCheckThrowsShapeError) {
  EXPECT_THROW(FINFUSE_CHECK_SHAPE(1 == 2, "shapes differ"), ShapeError);
  EXPECT_THROW(FINFUSE_CHECK_AS(RegistryError, false), Error);
}

TEST(Check, MessageWithoutArgumentsNamesTheCondition) {
  try {
    FINFUSE_CHECK(2 + 2 == 5);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("check `2 + 2 == 5` failed"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace finfuse
