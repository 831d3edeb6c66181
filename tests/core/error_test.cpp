#include "finfuse/core/error.h"

#include <gtest/gtest.h>

namespace finfuse {
namespace {

TEST(Errors, AllDeriveFromErrorAndRuntimeError) {
  EXPECT_THROW(throw ConfigError("/a", "bad"), Error);
  EXPECT_THROW(throw DataError("f.csv", 3, "close", "bad"), Error);
  EXPECT_THROW(throw ShapeError("bad"), Error);
  EXPECT_THROW(throw RegistryError("bad"), Error);
  EXPECT_THROW(throw IoError("f", "bad"), Error);
  EXPECT_THROW(throw Error("bad"), std::runtime_error);
}

TEST(Errors, ConfigErrorNamesSourceAndPointer) {
  const ConfigError e("/model/encoders/text/hidden", "must be > 0, got -3", "run.json");
  EXPECT_STREQ(e.what(), "run.json: /model/encoders/text/hidden: must be > 0, got -3");
  EXPECT_EQ(e.pointer(), "/model/encoders/text/hidden");
  EXPECT_EQ(e.reason(), "must be > 0, got -3");
  EXPECT_EQ(e.source(), "run.json");
}

TEST(Errors, ConfigErrorAtRootShowsSlash) {
  EXPECT_STREQ(ConfigError("", "expected an object").what(), "/: expected an object");
}

TEST(Errors, DataErrorNamesFileRecordAndField) {
  const DataError e("prices.csv", 17, "close", "expected a finite number, got 'nan'");
  EXPECT_STREQ(e.what(), "prices.csv:17: field 'close': expected a finite number, got 'nan'");
  EXPECT_EQ(e.file(), "prices.csv");
  EXPECT_EQ(e.record(), 17);
  EXPECT_EQ(e.field(), "close");
  EXPECT_STREQ(DataError("prices.csv", 0, "", "file is empty").what(), "prices.csv: file is empty");
}

TEST(Errors, IoErrorNamesPath) {
  const IoError e("/tmp/x.json", "no such file");
  EXPECT_STREQ(e.what(), "/tmp/x.json: no such file");
  EXPECT_EQ(e.path(), "/tmp/x.json");
}

}  // namespace
}  // namespace finfuse
