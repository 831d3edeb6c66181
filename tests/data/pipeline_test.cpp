#include "finfuse/data/pipeline.h"

#include "support/shared_data.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace finfuse::data {
namespace {

std::string config_error(const std::string& text) {
  try {
    DataConfig::from_config(Config::parse(text, "data.json"), "/base");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DataConfig, PathsAndErrors) {
  ::setenv("FINFUSE_PIPELINE_TEST_DIR", "/data/sets", 1);
  const DataConfig c = DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "${FINFUSE_PIPELINE_TEST_DIR}/prices.csv", "errors": "lenient"},
    "texts": {"path": "tweets.jsonl", "layout": "nested"},
    "split": {"valid_start": "2015-08-01", "test_start": "2015-10-01"}
  })"), "/base/configs");
  EXPECT_EQ(c.prices_path->string(), "/data/sets/prices.csv");
  EXPECT_EQ(c.texts_path->string(), "/base/configs/tweets.jsonl");
  EXPECT_EQ(c.prices.errors, ErrorMode::lenient);
  EXPECT_EQ(DataConfig::from_config(Config(c.to_json()), "/elsewhere").to_json(), c.to_json());

  EXPECT_EQ(config_error(R"({"prices": {"path": "${FINFUSE_NOT_SET_ANYWHERE}/p.csv"}})"),
            "data.json: /prices/path: the path \"${FINFUSE_NOT_SET_ANYWHERE}/p.csv\" uses ${FINFUSE_NOT_SET_ANYWHERE}, "
            "which is not set in the environment");
  EXPECT_EQ(config_error(R"({"split": {"valid_start": "2015-08-01", "test_start": "2015-10-01"}})"),
            "data.json: /prices: samples come from a price panel unless samples_from_table names a static table");
  EXPECT_EQ(config_error(R"({"prices": {"path": "p.csv"}, "split": {"kind": "chronological"}})"),
            "data.json: /split/valid_start: required for a chronological split (a date \"YYYY-MM-DD\")");
  EXPECT_EQ(config_error(R"({"prices": {"path": "p.csv"}, "samples_from_table": "credit"})"),
            "data.json: /samples_from_table: 'credit' is not a static table under /tables");
  EXPECT_EQ(config_error(R"({"prices": {"path": "p.csv", "colums": {}}})").rfind(
                "data.json: /prices/colums: unknown key 'colums' (did you mean 'columns'?)", 0),
            0u);
}

TEST(DataPipelineRealData, StockNetPriceAndTweets) {
  FINFUSE_REQUIRE_SHARED_DATA(dir, "stocknet");
  ::setenv("FINFUSE_DATA_DIR", ::finfuse::testing::shared_data_dir().c_str(), 1);
  const DataConfig config = DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "${FINFUSE_DATA_DIR}/stocknet/prices.csv"},
    "texts": {"path": "${FINFUSE_DATA_DIR}/stocknet/tweets.jsonl", "layout": "nested"},
    "assembly": {"price_window": 5, "start": "2014-01-01", "end": "2015-12-31",
                 "label": {"up_threshold": 0.0055, "down_threshold": -0.005}},
    "split": {"valid_start": "2015-08-01", "test_start": "2015-10-01", "test_end": "2016-01-01"},
    "dataset": {"modalities": ["price", "text"], "max_texts": 5, "tokenizer": {"max_length": 16}}
  })"), ".");
  const DataPipeline pipeline = DataPipeline::build(config);
  const Json summary = pipeline.summary();
  EXPECT_EQ(summary["splits"]["train"]["samples"], 20341);
  EXPECT_EQ(summary["splits"]["valid"]["samples"], 2555);
  EXPECT_EQ(summary["splits"]["test"]["samples"], 3720);
  EXPECT_EQ(summary["splits"]["test"]["last_day"], "2015-12-31");
  EXPECT_EQ(summary["sources"]["prices"]["missing_rows"], 3);
  const double text_coverage = summary["coverage"]["text"].get<double>();
  EXPECT_GT(text_coverage, 0.5);
  EXPECT_LT(text_coverage, 1.0);
  const auto& classes = summary["splits"]["train"]["classes"];
  EXPECT_EQ(classes["0"].get<std::int64_t>() + classes["1"].get<std::int64_t>(), 20341);
  std::printf("%s\n", summary.dump(2).c_str());
}

TEST(DataPipelineRealData, CreditTableStratified) {
  FINFUSE_REQUIRE_SHARED_DATA(dir, "credit/taiwan_default.csv");
  ::setenv("FINFUSE_DATA_DIR", ::finfuse::testing::shared_data_dir().c_str(), 1);
  const DataConfig config = DataConfig::from_config(Config::parse(R"({
    "tables": {"credit": {"path": "${FINFUSE_DATA_DIR}/credit/taiwan_default.csv", "kind": "static",
                          "entity_column": "ID", "categorical": ["SEX", "EDUCATION", "MARRIAGE"],
                          "label_column": "defaulted"}},
    "samples_from_table": "credit",
    "split": {"kind": "stratified", "valid_fraction": 0.1, "test_fraction": 0.2, "seed": 7},
    "dataset": {"modalities": ["numeric"], "numeric": {"scale": "robust", "clip": "winsorize"}}
  })"), ".");
  const DataPipeline pipeline = DataPipeline::build(config);
  const Json summary = pipeline.summary();
  EXPECT_EQ(summary["splits"]["test"]["samples"], 6000);
  const auto& test = summary["splits"]["test"]["classes"];
  EXPECT_NEAR(test["1"].get<double>() / 6000.0, 0.2212, 0.001);
  const Batch batch = pipeline.dataset()->collate({0, 1});
  EXPECT_EQ(batch.modalities.at("numeric").values.size(1), 20);
  EXPECT_EQ(batch.modalities.at("categorical").values.size(1), 3);
}

}  // namespace
}  // namespace finfuse::data
