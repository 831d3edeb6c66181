// Parquet inputs: files written by pandas and pyarrow (tests/parity/parquet_references.py, run by ctest as the
// fixture of parity.parquet) read as their CSV twins are, and damaged or ill-typed ones refused with the file, row
// and column named.
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/parquet.h"
#include "finfuse/data/price_panel.h"
#include "finfuse/data/text_corpus.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace finfuse::data {
namespace {

TEST(Parquet, FilesAreKnownByTheirExtension) {
  EXPECT_TRUE(is_parquet_path("a/prices.parquet"));
  EXPECT_TRUE(is_parquet_path("PRICES.PQ"));
  EXPECT_FALSE(is_parquet_path("prices.csv"));
  EXPECT_FALSE(is_parquet_path("parquet"));
}

TEST(Parquet, ABuildWithoutArrowSaysSoAndAMissingFileIsAnIoError) {
  const auto missing = std::filesystem::temp_directory_path() / "finfuse_no_such_file.parquet";
  if (!parquet_supported()) {
    try {
      PricePanel::load(missing);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("without Apache Arrow"), std::string::npos) << e.what();
    }
    return;
  }
  EXPECT_THROW(PricePanel::load(missing), IoError);
  // Not Parquet at all.
  const auto text = std::filesystem::temp_directory_path() / "finfuse_not_parquet.parquet";
  std::ofstream(text) << "symbol,date\nA,2020-01-02\n";
  try {
    ParquetReader::open(text);
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.file(), text.string());
    EXPECT_NE(e.reason().find("not a readable Parquet file"), std::string::npos) << e.what();
  }
  std::filesystem::remove(text);
}

class ParquetInput : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("FINFUSE_PARQUET_DIR");
    if (dir == nullptr) {
      GTEST_SKIP() << "FINFUSE_PARQUET_DIR is not set (ctest sets it where a Python with pandas and pyarrow exists)";
    }
    ASSERT_TRUE(parquet_supported()) << "the Parquet references exist but this build does not read Parquet";
    dir_ = dir;
  }

  /// The DataError that loading `name` as a price panel throws.
  DataError price_error(const std::string& name) {
    try {
      PricePanel::load(dir_ / name);
    } catch (const DataError& e) {
      return e;
    }
    ADD_FAILURE() << name << " loaded without an error";
    return DataError("", 0, "", "");
  }

  std::filesystem::path dir_;
};

void expect_same_panel(const PricePanel& actual, const PricePanel& expected) {
  ASSERT_EQ(actual.symbols(), expected.symbols());
  for (const auto& symbol : expected.symbols()) {
    const PriceSeries& a = actual.series(symbol);
    const PriceSeries& e = expected.series(symbol);
    EXPECT_EQ(a.dates, e.dates) << symbol;
    // Bit for bit: the shortest exact decimal form of each double reads back as the same double.
    EXPECT_EQ(a.open, e.open) << symbol;
    EXPECT_EQ(a.high, e.high) << symbol;
    EXPECT_EQ(a.low, e.low) << symbol;
    EXPECT_EQ(a.close, e.close) << symbol;
    EXPECT_EQ(a.adj_close, e.adj_close) << symbol;
    EXPECT_EQ(a.volume, e.volume) << symbol;
  }
}

TEST_F(ParquetInput, PricesEqualTheirCsvTwin) {
  const PricePanel csv = PricePanel::load(dir_ / "prices.csv");
  ASSERT_EQ(csv.rows(), 12);
  // pandas' datetime64 dates (Parquet timestamps at midnight) and pyarrow's date32 in row groups of three rows.
  expect_same_panel(PricePanel::load(dir_ / "prices.parquet"), csv);
  expect_same_panel(PricePanel::load_parquet(dir_ / "prices_groups.parquet"), csv);
  ParquetReader reader = ParquetReader::open(dir_ / "prices_groups.parquet");
  EXPECT_EQ(reader.rows(), 12);
  EXPECT_EQ(reader.header().front(), "symbol");
}

TEST_F(ParquetInput, NumericTableEqualsItsCsvTwin) {
  NumericTableOptions options;
  options.entity_column = "entity";
  options.categorical = {"sector"};
  const NumericTable csv = NumericTable::load(dir_ / "table.csv", options);
  const NumericTable parquet = NumericTable::load(dir_ / "table.parquet", options);
  ASSERT_EQ(parquet.rows(), csv.rows());
  ASSERT_EQ(parquet.columns(), csv.columns());
  ASSERT_EQ(parquet.columns(), std::vector<std::string>{"pe"});
  for (std::size_t row = 0; row < csv.rows(); ++row) {
    const float a = parquet.value(row, 0);
    const float e = csv.value(row, 0);
    EXPECT_TRUE(a == e || (std::isnan(a) && std::isnan(e))) << "row " << row << ": " << a << " vs " << e;
    EXPECT_EQ(parquet.category(row, 0), csv.category(row, 0)) << "row " << row;  // from a pandas categorical
    EXPECT_EQ(parquet.date(row), csv.date(row));
  }
  EXPECT_TRUE(std::isnan(parquet.value(1, 0)));  // a null is a missing value
  EXPECT_EQ(parquet.category(2, 0), "energy");
}

TEST_F(ParquetInput, ANullIsAMissingObservationLikeAnEmptyCsvField) {
  const PricePanel panel = PricePanel::load(dir_ / "null_close.parquet");
  EXPECT_EQ(panel.report().rows, 12);
  EXPECT_EQ(panel.report().missing_rows, 1);
  EXPECT_EQ(panel.rows(), 11);
}

TEST_F(ParquetInput, IllTypedAndDamagedFilesNameFileRowAndColumn) {
  const DataError strings = price_error("bad_string_close.parquet");
  EXPECT_EQ(strings.file(), (dir_ / "bad_string_close.parquet").string());
  EXPECT_EQ(strings.record(), 3);
  EXPECT_EQ(strings.field(), "close");
  EXPECT_EQ(strings.reason(), "expected a number, got 'abc'");

  const DataError nan = price_error("bad_nan_close.parquet");
  EXPECT_EQ(nan.record(), 4);
  EXPECT_EQ(nan.field(), "close");
  EXPECT_NE(nan.reason().find("expected a finite number"), std::string::npos) << nan.what();

  // Midnight in New York is 05:00 UTC: an instant, not a date.
  const DataError zoned = price_error("bad_zoned_date.parquet");
  EXPECT_EQ(zoned.record(), 1);
  EXPECT_EQ(zoned.field(), "date");
  EXPECT_EQ(zoned.reason(), "expected a date YYYY-MM-DD, got '2020-01-02T05:00:00Z'");

  const DataError list = price_error("bad_list_volume.parquet");
  EXPECT_EQ(list.field(), "volume");
  EXPECT_NE(list.reason().find("expected strings, numbers, booleans, dates or timestamps"), std::string::npos)
      << list.what();

  const DataError truncated = price_error("bad_truncated.parquet");
  EXPECT_EQ(truncated.record(), 0);
  EXPECT_NE(truncated.reason().find("not a readable Parquet file"), std::string::npos) << truncated.what();

  // A required column that the file lacks: the columns it has, with a suggestion.
  PriceCsvOptions options;
  options.columns.close = "clsoe";
  try {
    PricePanel::load(dir_ / "prices.parquet", options);
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.field(), "clsoe");
    EXPECT_NE(e.reason().find("did you mean 'close'"), std::string::npos) << e.what();
  }
}

TEST_F(ParquetInput, LenientModeSkipsAndCountsBadRows) {
  PriceCsvOptions options;
  options.errors = ErrorMode::lenient;
  const PricePanel panel = PricePanel::load(dir_ / "bad_string_close.parquet", options);
  EXPECT_EQ(panel.report().bad_rows, 1);
  EXPECT_EQ(panel.rows(), 11);
}

void expect_same_texts(const TextCorpus& actual, const TextCorpus& expected) {
  ASSERT_EQ(actual.entities(), expected.entities());
  for (const auto& entity : expected.entities()) {
    const auto& a = actual.texts(entity);
    const auto& e = expected.texts(entity);
    ASSERT_EQ(a.size(), e.size()) << entity;
    for (std::size_t i = 0; i < e.size(); ++i) {
      EXPECT_EQ(a[i].time, e[i].time) << entity << " " << i;
      EXPECT_EQ(a[i].text, e[i].text) << entity << " " << i;
    }
  }
}

TEST_F(ParquetInput, TextsEqualTheirJsonLinesTwin) {
  const TextCorpus jsonl = TextCorpus::load(dir_ / "texts.jsonl");
  ASSERT_EQ(jsonl.size(), 4);
  // UTC timestamps with and without a time zone; the entity column a pandas categorical.
  expect_same_texts(TextCorpus::load(dir_ / "texts.parquet"), jsonl);
  expect_same_texts(TextCorpus::load_parquet(dir_ / "texts_naive.parquet"), jsonl);
  EXPECT_EQ(jsonl.texts("AAA").front().text, "pre-market: $AAA");  // in time order, not file order
  TextJsonlOptions nested = TextJsonlOptions::stocknet();
  EXPECT_THROW(TextCorpus::load(dir_ / "texts.parquet", nested), DataError);
}

TEST_F(ParquetInput, BadTextsNameTheRowAndColumn) {
  try {
    TextCorpus::load(dir_ / "bad_texts.parquet");
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 2);
    EXPECT_EQ(e.field(), "text");
    EXPECT_EQ(e.reason(), "the text is empty");
  }
  TextJsonlOptions lenient;
  lenient.errors = ErrorMode::lenient;
  const TextCorpus corpus = TextCorpus::load(dir_ / "bad_texts.parquet", lenient);
  EXPECT_EQ(corpus.report().bad_records, 2);
  EXPECT_EQ(corpus.size(), 2);
}

}  // namespace
}  // namespace finfuse::data
