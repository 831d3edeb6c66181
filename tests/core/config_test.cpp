#include "finfuse/core/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace finfuse {
namespace {

// Runs `fn`, expects a ConfigError, and returns it for inspection.
template <typename Fn>
ConfigError config_error(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError";
  return ConfigError("", "");
}

TEST(ParseJson, AcceptsComments) {
  const Json j = parse_json(R"({
    // line comment
    "a": 1, /* block comment */ "b": [1, 2]
  })");
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"].size(), 2u);
}

TEST(ParseJson, SyntaxErrorNamesSourceLineAndColumn) {
  const auto e = config_error([] { parse_json("{\n  \"a\": 1,\n  \"b\": }\n", "run.json"); });
  EXPECT_EQ(e.source(), "run.json");
  EXPECT_EQ(e.pointer(), "");
  const std::string what = e.what();
  EXPECT_EQ(what.rfind("run.json: /: invalid JSON at line 3, column 8", 0), 0u) << what;
}

TEST(ParseJson, RejectsDuplicateKeysWithTheirPointer) {
  auto e = config_error([] { parse_json(R"({"model": {"hidden": 1, "hidden": 2}})", "c.json"); });
  EXPECT_EQ(e.pointer(), "/model/hidden");
  EXPECT_STREQ(e.what(), "c.json: /model/hidden: duplicate key 'hidden' in the same object");

  e = config_error([] { parse_json(R"({"list": [{"x": 1}, {"y": [0, 1], "x": 2, "x": 3}]})"); });
  EXPECT_EQ(e.pointer(), "/list/1/x");
}

TEST(ParseJson, SameKeyInDifferentObjectsIsFine) {
  EXPECT_NO_THROW(parse_json(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]})"));
}

TEST(Config, TypedAccessorsWithDefaults) {
  const Config c = Config::parse(R"({"n": 3, "f": 0.5, "s": "gelu", "b": true, "v": [1, 2, 3], "whole": 4.0})");
  EXPECT_EQ(c.get<std::int64_t>("n"), 3);
  EXPECT_DOUBLE_EQ(c.get<double>("f"), 0.5);
  EXPECT_DOUBLE_EQ(c.get<double>("n"), 3.0);
  EXPECT_EQ(c.get<std::string>("s"), "gelu");
  EXPECT_TRUE(c.get<bool>("b"));
  EXPECT_EQ(c.get<std::vector<std::int64_t>>("v"), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(c.get<std::int32_t>("whole"), 4);
  EXPECT_EQ(c.get<std::int64_t>("missing", 7), 7);
  EXPECT_EQ(c.get("missing_string", "relu"), "relu");
  EXPECT_NO_THROW(c.reject_unknown_keys());
}

TEST(Config, NullMeansDefault) {
  const Config c = Config::parse(R"({"n": null})");
  EXPECT_EQ(c.get<std::int64_t>("n", 5), 5);
}

TEST(Config, MissingRequiredKey) {
  const Config c = Config::parse(R"({"model": {}})", "run.json");
  const auto e = config_error([&] { c.child("model").get<std::int64_t>("hidden"); });
  EXPECT_STREQ(e.what(), "run.json: /model/hidden: required key is missing");
}

TEST(Config, WrongTypesAreReportedWithTheValue) {
  const Config c = Config::parse(R"({"n": "abc", "f": 3.5, "s": 1, "b": "yes", "big": 3000000000, "neg": -1})");
  EXPECT_STREQ(config_error([&] { c.get<std::int64_t>("n"); }).what(), "/n: expected an integer, got string \"abc\"");
  EXPECT_STREQ(config_error([&] { c.get<std::int64_t>("f"); }).what(), "/f: expected an integer, got number 3.5");
  EXPECT_STREQ(config_error([&] { c.get<std::string>("s"); }).what(), "/s: expected a string, got number 1");
  EXPECT_STREQ(config_error([&] { c.get<bool>("b"); }).what(), "/b: expected true or false, got string \"yes\"");
  EXPECT_STREQ(config_error([&] { c.get<std::int32_t>("big"); }).what(), "/big: 3000000000 is too large (at most 2147483647)");
  EXPECT_STREQ(config_error([&] { c.get<std::uint64_t>("neg"); }).what(),
               "/neg: expected a non-negative integer, got -1");
}

TEST(Config, ArrayElementErrorsNameTheIndex) {
  const Config c = Config::parse(R"({"layers": [64, "wide", 8]})");
  const auto e = config_error([&] { c.get<std::vector<std::int64_t>>("layers"); });
  EXPECT_EQ(e.pointer(), "/layers/1");
  EXPECT_STREQ(e.what(), "/layers/1: expected an integer, got string \"wide\"");
}

TEST(Config, RangeChecks) {
  const Config c = Config::parse(R"({"model": {"encoders": {"text": {"hidden": -3, "dropout": 1.0, "lr": 0.1}}}})");
  const Config text = c.child("model").child("encoders").child("text");
  EXPECT_STREQ(config_error([&] { text.get<std::int64_t>("hidden", 64, Range::positive()); }).what(),
               "/model/encoders/text/hidden: must be > 0, got -3");
  EXPECT_STREQ(config_error([&] { text.get<double>("dropout", 0.0, Range::half_open(0, 1)); }).what(),
               "/model/encoders/text/dropout: must be in [0, 1), got 1");
  EXPECT_DOUBLE_EQ(text.get<double>("lr", Range::closed(0, 1)), 0.1);
  EXPECT_EQ(text.get<std::int64_t>("absent", 64, Range::positive()), 64);
}

TEST(Range, Describe) {
  EXPECT_EQ(Range::positive().describe(), "> 0");
  EXPECT_EQ(Range::non_negative().describe(), ">= 0");
  EXPECT_EQ(Range::at_least(2).describe(), ">= 2");
  EXPECT_EQ(Range::closed(0, 1).describe(), "in [0, 1]");
  EXPECT_EQ(Range::half_open(0, 0.5).describe(), "in [0, 0.5)");
  EXPECT_EQ(Range::any().describe(), "any value");
  EXPECT_FALSE(Range::any().contains(std::nan("")));
  EXPECT_TRUE(Range::closed(0, 1).contains(1.0));
  EXPECT_FALSE(Range::half_open(0, 1).contains(1.0));
}

TEST(Config, UnknownKeysAreRejectedWithSuggestion) {
  const Config c = Config::parse(R"({"hidden": 8, "dropuot": 0.1})", "run.json");
  c.get<std::int64_t>("hidden");
  c.get<double>("dropout", 0.0);
  c.get<std::string>("activation", "relu");
  const auto e = config_error([&] { c.reject_unknown_keys(); });
  EXPECT_EQ(e.pointer(), "/dropuot");
  EXPECT_STREQ(e.what(),
               "run.json: /dropuot: unknown key 'dropuot' (did you mean 'dropout'?); known keys here: "
               "'activation', 'dropout', 'hidden'");
}

TEST(Config, ViewsOfTheSameNodeShareKnownKeys) {
  const Config c = Config::parse(R"({"model": {"a": 1, "b": 2}})");
  c.child("model").get<int>("a");
  c.child("model").get<int>("b");
  EXPECT_NO_THROW(c.child("model").reject_unknown_keys());
  EXPECT_NO_THROW(c.reject_unknown_keys());
}

TEST(Config, ChoicesSuggestTheClosest) {
  const Config c = Config::parse(R"({"norm": "batchh"})");
  EXPECT_STREQ(config_error([&] { c.get_choice("norm", "none", {"none", "batch", "layer"}); }).what(),
               "/norm: 'batchh' is not one of 'none', 'batch', 'layer' (did you mean 'batch'?)");
}

TEST(Config, SectionsAndArrays) {
  const Config c = Config::parse(R"({"a": [{"x": 1}, {"x": 2}], "s": 3})");
  EXPECT_EQ(c.child("a").size(), 2u);
  EXPECT_EQ(c.child("a")[1].get<int>("x"), 2);
  EXPECT_EQ(c.child("a")[1].pointer(), "/a/1");
  const Config absent = c.section("optional");
  EXPECT_TRUE(absent.is_object());
  EXPECT_EQ(absent.pointer(), "/optional");
  EXPECT_EQ(absent.get<int>("k", 9), 9);
  EXPECT_FALSE(c.find_child("nothing").has_value());
  EXPECT_STREQ(config_error([&] { c.child("s"); }).what(), "/s: expected an object or array, got number 3");
  EXPECT_STREQ(config_error([&] { c.child("a")[5]; }).what(), "/a: index 5 is out of range for an array of 2 element(s)");
  EXPECT_STREQ(config_error([&] { c.child("a")[0].get<int>("y"); }).what(), "/a/0/y: required key is missing");
}

TEST(Config, AccessorsOnNonObjectsFail) {
  const Config c = Config::parse(R"([1, 2])");
  EXPECT_STREQ(config_error([&] { c.get<int>("x"); }).what(), "/: expected an object, got an array of 2 element(s)");
}

TEST(Config, PointerEscapesSlashAndTilde) {
  const Config c = Config::parse(R"({"a/b": {"c~d": "x"}})");
  const auto e = config_error([&] { c.child("a/b").get<int>("c~d"); });
  EXPECT_EQ(e.pointer(), "/a~1b/c~0d");
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("finfuse_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigFile, LoadsAndNamesTheFileInErrors) {
  const auto path = write("run.json", "{\n  // seed for everything\n  \"seed\": \"x\"\n}\n");
  const Config c = Config::load(path);
  EXPECT_EQ(c.source(), path.string());
  const auto e = config_error([&] { c.get<std::uint64_t>("seed"); });
  EXPECT_EQ(std::string(e.what()), path.string() + ": /seed: expected an integer, got string \"x\"");
}

TEST_F(ConfigFile, MissingFileIsAnIoError) {
  EXPECT_THROW(Config::load(dir_ / "absent.json"), IoError);
  try {
    Config::load(dir_ / "absent.json");
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "absent.json").string() + ": no such file");
  }
  EXPECT_THROW(Config::load(dir_), IoError);
}

TEST_F(ConfigFile, EmptyAndTruncatedFilesAreConfigErrors) {
  EXPECT_THROW(Config::load(write("empty.json", "")), ConfigError);
  EXPECT_THROW(Config::load(write("cut.json", "{\"a\": [1, 2")), ConfigError);
  EXPECT_THROW(Config::load(write("trailing.json", "{\"a\": 1} x")), ConfigError);
}

}  // namespace
}  // namespace finfuse
