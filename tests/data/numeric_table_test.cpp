#include "finfuse/data/numeric_table.h"

#include "support/shared_data.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace finfuse::data {
namespace {

class NumericTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("finfuse_numeric_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& text) {
    const auto path = dir_ / "table.csv";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(NumericTableTest, AsOfJoinUsesPublicationTime) {
  // Quarterly numbers published weeks after the quarter ends.
  const auto path = write(
      "symbol,date,available_at,eps,sector\n"
      "A,2014-12-31,2015-02-10T21:05:00Z,1.5,tech\n"
      "A,2015-03-31,2015-05-05,1.7,tech\n"
      "B,2015-03-31,2015-04-20T12:00:00Z,NA,energy\n");
  NumericTableOptions options;
  options.available_column = "available_at";
  options.categorical = {"sector"};
  const NumericTable table = NumericTable::load_csv(path, options);
  EXPECT_EQ(table.columns(), (std::vector<std::string>{"eps"}));
  EXPECT_EQ(table.entities(), (std::vector<std::string>{"A", "B"}));
  const auto at = [](const char* text) { return *parse_timestamp(text); };
  EXPECT_EQ(table.row_as_of("A", at("2015-02-10T21:00:00Z")), std::nullopt);  // five minutes too early
  EXPECT_EQ(table.row_as_of("A", at("2015-02-10T21:05:00Z")), 0u);
  // Published "on 2015-05-05" (a date): usable from the next midnight only.
  EXPECT_EQ(table.row_as_of("A", at("2015-05-05T20:00:00Z")), 0u);
  EXPECT_EQ(table.row_as_of("A", at("2015-05-06T00:00:00Z")), 1u);
  EXPECT_FLOAT_EQ(table.value(1, 0), 1.7f);
  const auto b = table.row_as_of("B", at("2015-06-01"));
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(std::isnan(table.value(*b, 0)));
  EXPECT_EQ(table.category(*b, 0), "energy");
  EXPECT_EQ(table.row_as_of("C", at("2015-06-01")), std::nullopt);
}

TEST_F(NumericTableTest, StaticTextTableWithClassLabelsAndRowIds) {
  // Latin-1 bytes (\xA3 is the pound sign), no header, no id column: rows are named by their line.
  const auto path = write(
      "Profit rose to \xA3 5 mn .@positive\n"
      "The company is based in Espoo .@neutral\n"
      "\n"
      "Sales fell 17 % .@negative\n");
  const NumericTableOptions options = NumericTableOptions::from_config(Config::parse(R"({
    "kind": "static", "entity_column": "", "text_columns": ["sentence"], "label_column": "sentiment",
    "label_classes": ["negative", "neutral", "positive"],
    "csv": {"delimiter": "@", "quote": "", "header": false, "column_names": ["sentence", "sentiment"],
            "encoding": "latin1_fallback"}})"));
  const NumericTable table = NumericTable::load_csv(path, options);
  ASSERT_EQ(table.rows(), 3u);
  EXPECT_TRUE(table.columns().empty());
  EXPECT_EQ(table.text_columns(), (std::vector<std::string>{"sentence"}));
  EXPECT_EQ(table.label_classes(), (std::vector<std::string>{"negative", "neutral", "positive"}));
  EXPECT_EQ(table.entity(0), "line 1");
  EXPECT_EQ(table.entity(2), "line 4");
  EXPECT_EQ(table.row_of("line 2"), 1u);
  EXPECT_EQ(table.text(0, 0), "Profit rose to \xC2\xA3 5 mn .");
  EXPECT_EQ(table.text_column_index("sentence"), 0u);
  EXPECT_FLOAT_EQ(table.label(0), 2.0f);
  EXPECT_FLOAT_EQ(table.label(1), 1.0f);
  EXPECT_FLOAT_EQ(table.label(2), 0.0f);

  // A label outside the classes names the file, line and column, and lists the classes.
  const auto bad = write("Shares jumped .@positive\nShares jumped again .@bullish\n");
  try {
    NumericTable::load_csv(bad, options);
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 2);
    EXPECT_EQ(e.field(), "sentiment");
    EXPECT_NE(std::string(e.what()).find("expected one of the classes 'negative', 'neutral', 'positive', got "
                                         "'bullish'"),
              std::string::npos)
        << e.what();
  }
  // Classes need a label column; only static tables may go without ids.
  EXPECT_THROW(NumericTableOptions::from_config(Config::parse(R"({"kind": "static", "label_classes": ["a", "b"]})")),
               ConfigError);
  EXPECT_THROW(NumericTableOptions::from_config(Config::parse(R"({"kind": "entity", "entity_column": ""})")),
               ConfigError);
}

TEST_F(NumericTableTest, GlobalTableWithoutPublicationColumnIsAvailableNextDay) {
  const auto path = write("date,rate,cpi\n2015-01-02,0.25,1.1\n2015-01-05,0.5,1.2\n");
  NumericTableOptions options;
  options.kind = "global";
  options.publication_lag_days = 1;
  const NumericTable table = NumericTable::load_csv(path, options);
  EXPECT_EQ(table.columns(), (std::vector<std::string>{"rate", "cpi"}));
  EXPECT_EQ(table.row_as_of("", *parse_timestamp("2015-01-03T23:59:59Z")), std::nullopt);
  EXPECT_EQ(table.row_as_of("", *parse_timestamp("2015-01-04T00:00:00Z")), 0u);
}

TEST_F(NumericTableTest, StaticTableWithLabel) {
  const auto path = write("id,limit,sex,age,defaulted\n1,20000,2,24,1\n2,120000,1,26,0\n");
  NumericTableOptions options;
  options.kind = "static";
  options.entity_column = "id";
  options.categorical = {"sex"};
  options.label_column = "defaulted";
  const NumericTable table = NumericTable::load_csv(path, options);
  EXPECT_EQ(table.columns(), (std::vector<std::string>{"limit", "age"}));
  EXPECT_TRUE(table.has_label());
  ASSERT_EQ(table.row_of("2"), 1u);
  EXPECT_FLOAT_EQ(table.label(1), 0.0f);
  EXPECT_EQ(table.category(0, 0), "2");
  EXPECT_EQ(NumericTableOptions::from_config(Config(options.to_json())).to_json(), options.to_json());
}

TEST_F(NumericTableTest, BadRowsNameFileLineAndField) {
  struct Case {
    std::string text;
    std::int64_t line;
    std::string field;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"symbol,date,x\nA,2015-01-02,1\nA,2015-01-02,2\n", 3, "date", "duplicate date 2015-01-02 for A (first at line 2)"},
      {"symbol,date,x\nA,2015-01-05,1\nA,2015-01-02,2\n", 3, "date", "comes after 2015-01-05"},
      {"symbol,date,x\nA,2015-01-02,inf\n", 2, "x", "expected a finite number, got 'inf'"},
      {"symbol,date,x\nA,2015-01-02,1e39\n", 2, "x", "expected a finite number"},
      {"symbol,date,x\nA,02/01/2015,1\n", 2, "date", "expected a date YYYY-MM-DD"},
      {"symbol,date,x\nA,2015-01-02,one\n", 2, "x", "expected a number, got 'one'"},
      {"symbol,date\nA,2015-01-02\n", 1, "", "the table has no feature columns"},
  };
  for (const auto& c : cases) {
    const auto path = write(c.text);
    try {
      NumericTable::load_csv(path, NumericTableOptions{});
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const DataError& e) {
      EXPECT_EQ(e.record(), c.line) << c.text;
      EXPECT_EQ(e.field(), c.field) << c.text;
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
  }
  const auto published_early = write("symbol,date,available_at,x\nA,2015-03-31,2015-03-01,1\n");
  NumericTableOptions options;
  options.available_column = "available_at";
  EXPECT_THROW(NumericTable::load_csv(published_early, options), DataError);
  const auto lenient_file = write("symbol,date,x\nA,2015-01-02,1\nA,2015-01-03,bad\nA,2015-01-04,3\n");
  options = NumericTableOptions{};
  options.errors = ErrorMode::lenient;
  EXPECT_EQ(NumericTable::load_csv(lenient_file, options).rows(), 2u);
}

TEST(NumericTableRealData, TaiwanCreditDefault) {
  FINFUSE_REQUIRE_SHARED_DATA(path, "credit/taiwan_default.csv");
  NumericTableOptions options;
  options.kind = "static";
  options.entity_column = "ID";
  options.categorical = {"SEX", "EDUCATION", "MARRIAGE"};
  options.label_column = "defaulted";
  const NumericTable table = NumericTable::load_csv(path, options);
  ASSERT_EQ(table.rows(), 30000u);
  EXPECT_EQ(table.columns().size(), 20u);
  double positives = 0;
  for (std::size_t i = 0; i < table.rows(); ++i) {
    positives += table.label(i);
  }
  EXPECT_EQ(positives, 6636);  // 22.12% default rate
}

}  // namespace
}  // namespace finfuse::data
