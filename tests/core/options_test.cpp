#include "finfuse/core/options.h"

#include <gtest/gtest.h>

namespace finfuse {
namespace {

// Every kind of field: plain values with defaults, a range, choices, lists with element rules, an optional, a
// required one, and a check across fields.
struct SampleOptions {
#define SAMPLE_FIELDS(F)                                                                                      \
  F(std::string, cell, "lstm", FieldRule::one_of({"lstm", "gru"}), "recurrent cell")                         \
  F(std::int64_t, hidden, 64, Range::closed(1, 4096), "hidden units")                                        \
  F(double, dropout, 0.0, Range::half_open(0, 1), "dropout probability")                                     \
  F(bool, bidirectional, false, FieldRule(), "read the sequence both ways")                                  \
  F(std::vector<std::int64_t>, channels, (std::vector<std::int64_t>{16, 32}), FieldRule(Range::positive()).non_empty( \
    "must name at least one block"), "channels")                                                              \
  F(std::vector<std::int64_t>, kernel, (std::vector<std::int64_t>{5, 3}), FieldRule(Range::positive()).size(2),  \
    "kernel height and width")                                                                                \
  F(std::vector<std::string>, poolings, (std::vector<std::string>{"mean"}), FieldRule::one_of({"mean", "max"}), \
    "poolings")                                                                                               \
  F(std::optional<std::int64_t>, output, std::nullopt, Range::positive(), "output width (default: hidden)")   \
  F(std::int64_t, in_features, 0, FieldRule::required(Range::positive()), "input width")
  FINFUSE_OPTIONS(SampleOptions, SAMPLE_FIELDS)
#undef SAMPLE_FIELDS

 public:
  void validate(const Config& config) const {
    if (output() && *output() > hidden()) {
      config.fail_at("output", "must not exceed hidden (" + std::to_string(hidden()) + ")");
    }
  }
};

std::string error_of(const std::string& text) {
  try {
    SampleOptions::from_config(Config::parse(text, "run.json"));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Options, ChainableAccessorsAndDefaults) {
  SampleOptions options;
  EXPECT_EQ(options.cell(), "lstm");
  EXPECT_EQ(options.hidden(), 64);
  EXPECT_EQ(options.channels(), (std::vector<std::int64_t>{16, 32}));
  EXPECT_FALSE(options.output().has_value());
  options.cell("gru").hidden(32).output(8).channels({4});
  EXPECT_EQ(options.cell(), "gru");
  EXPECT_EQ(options.hidden(), 32);
  EXPECT_EQ(options.output(), 8);
  options.hidden() += 1;
  EXPECT_EQ(options.hidden(), 33);
}

TEST(Options, ReadsWritesAndReadsBack) {
  const auto read = SampleOptions::from_config(Config::parse(
      R"({"cell": "gru", "hidden": 128, "channels": [8, 8, 16], "poolings": ["max", "mean"], "in_features": 11,
          "output": null})"));
  EXPECT_EQ(read.cell(), "gru");
  EXPECT_EQ(read.hidden(), 128);
  EXPECT_EQ(read.dropout(), 0.0);
  EXPECT_EQ(read.channels(), (std::vector<std::int64_t>{8, 8, 16}));
  EXPECT_EQ(read.poolings(), (std::vector<std::string>{"max", "mean"}));
  EXPECT_FALSE(read.output().has_value());
  EXPECT_EQ(read.in_features(), 11);
  const Json written = read.to_json();
  EXPECT_EQ(written, Json::parse(R"({"cell": "gru", "hidden": 128, "dropout": 0.0, "bidirectional": false,
      "channels": [8, 8, 16], "kernel": [5, 3], "poolings": ["max", "mean"], "output": null, "in_features": 11})"));
  const auto again = SampleOptions::from_config(Config(written));
  EXPECT_EQ(again.to_json(), written);
  EXPECT_EQ(SampleOptions().output(3).in_features(2).to_json().at("output"), 3);
}

TEST(Options, ErrorsNameTheJsonPointerAndWhatWasExpected) {
  EXPECT_EQ(error_of(R"({"hidden": 0, "in_features": 1})"), "run.json: /hidden: must be in [1, 4096], got 0");
  EXPECT_EQ(error_of(R"({"cell": "lstn", "in_features": 1})"),
            "run.json: /cell: 'lstn' is not one of 'lstm', 'gru' (did you mean 'lstm'?)");
  EXPECT_EQ(error_of(R"({"channels": [8, -1], "in_features": 1})"), "run.json: /channels/1: must be > 0, got -1");
  EXPECT_EQ(error_of(R"({"poolings": ["mean", "min"], "in_features": 1})").rfind(
                "run.json: /poolings/1: 'min' is not one of 'mean', 'max'", 0),
            0u);
  EXPECT_EQ(error_of(R"({"output": 0, "in_features": 1})"), "run.json: /output: must be > 0, got 0");
  EXPECT_EQ(error_of(R"({"channels": [], "in_features": 1})"), "run.json: /channels: must name at least one block");
  EXPECT_EQ(error_of(R"({"kernel": [3], "in_features": 1})"), "run.json: /kernel: expected 2 values, got 1");
  EXPECT_EQ(error_of(R"({"kernel": [3, 0], "in_features": 1})"), "run.json: /kernel/1: must be > 0, got 0");
  EXPECT_EQ(error_of(R"({"hidden": "wide", "in_features": 1})").rfind("run.json: /hidden: expected", 0), 0u);
  EXPECT_EQ(error_of(R"({})"), "run.json: /in_features: required key is missing");
  EXPECT_EQ(error_of(R"({"in_features": 1, "hiden": 3})").rfind(
                "run.json: /hiden: unknown key 'hiden' (did you mean 'hidden'?)", 0),
            0u);
  EXPECT_EQ(error_of(R"({"in_features": 1, "output": 65})"), "run.json: /output: must not exceed hidden (64)");
}

TEST(Options, TheFieldTableIsTheDeclaration) {
  const auto& fields = SampleOptions::fields();
  ASSERT_EQ(fields.size(), 9u);
  std::vector<std::string> names;
  for (const auto& f : fields) {
    names.push_back(f.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"cell", "hidden", "dropout", "bidirectional", "channels", "kernel",
                                             "poolings", "output", "in_features"}));
  EXPECT_EQ(fields[0].type, "string");
  EXPECT_EQ(fields[0].default_value, "lstm");
  EXPECT_EQ(fields[0].rule.describe(), "one of 'lstm', 'gru'");
  EXPECT_EQ(fields[1].type, "integer");
  EXPECT_EQ(fields[1].rule.describe(), "in [1, 4096]");
  EXPECT_EQ(fields[2].type, "number");
  EXPECT_EQ(fields[3].type, "bool");
  EXPECT_EQ(fields[3].rule.describe(), "");
  EXPECT_EQ(fields[4].type, "list of integers");
  EXPECT_EQ(fields[4].default_value, Json::parse("[16, 32]"));
  EXPECT_EQ(fields[4].rule.describe(), "non-empty, each > 0");
  EXPECT_EQ(fields[5].rule.describe(), "2 values, each > 0");
  EXPECT_EQ(fields[6].type, "list of strings");
  EXPECT_EQ(fields[7].type, "integer or null");
  EXPECT_TRUE(fields[7].default_value.is_null());
  EXPECT_EQ(fields[7].doc, "output width (default: hidden)");
  EXPECT_TRUE(fields[8].default_value.is_null());
  EXPECT_EQ(fields[8].rule.describe(), "required, > 0");
}

}  // namespace
}  // namespace finfuse
