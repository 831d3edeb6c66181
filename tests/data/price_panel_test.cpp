#include "finfuse/data/price_panel.h"

#include "support/shared_data.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace finfuse::data {
namespace {

class PricePanelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("finfuse_prices_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& text) {
    const auto path = dir_ / "prices.csv";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path dir_;
};

const char* kHeader = "symbol,date,open,high,low,close,adj_close,volume\n";

TEST_F(PricePanelTest, LoadsInterleavedSymbolsInDateOrder) {
  const auto path = write(std::string(kHeader) +
                          "AAPL,2014-01-02,10,11,9,10.5,10.4,1000\n"
                          "MSFT,2014-01-02,30,31,29,30.5,30.1,2000\n"
                          "AAPL,2014-01-03,10.5,12,10,11.5,11.4,1500\n"
                          "MSFT,2014-01-06,30.5,32,30,31,30.6,0\n");
  const PricePanel panel = PricePanel::load_csv(path);
  EXPECT_EQ(panel.symbols(), (std::vector<std::string>{"AAPL", "MSFT"}));
  EXPECT_EQ(panel.rows(), 4);
  const PriceSeries& aapl = panel.series("AAPL");
  ASSERT_EQ(aapl.size(), 2u);
  EXPECT_FLOAT_EQ(aapl.adj_close[1], 11.4);
  EXPECT_FLOAT_EQ(aapl.volume[0], 1000);
  const PriceSeries& msft = panel.series("MSFT");
  EXPECT_EQ(msft.index_of(Date::from_ymd(2014, 1, 3)), std::nullopt);
  EXPECT_EQ(msft.index_at_or_before(Date::from_ymd(2014, 1, 3)), 0u);
  EXPECT_EQ(msft.index_at_or_before(Date::from_ymd(2014, 1, 1)), std::nullopt);
  EXPECT_EQ(msft.index_after(Date::from_ymd(2014, 1, 2)), 1u);
  EXPECT_EQ(msft.index_after(Date::from_ymd(2014, 1, 6)), std::nullopt);
  EXPECT_EQ(panel.date_range().first, Date::from_ymd(2014, 1, 2));
  EXPECT_EQ(panel.date_range().second, Date::from_ymd(2014, 1, 6));
  EXPECT_EQ(panel.calendar().size(), 3u);
  EXPECT_THROW(panel.series("AAPLE"), Error);

  // A series taken out leaves the panel with its bars; the load report stays as read.
  PricePanel rest = panel;
  const PriceSeries taken = rest.take("AAPL");
  EXPECT_EQ(taken.symbol, "AAPL");
  EXPECT_EQ(taken.dates, aapl.dates);
  EXPECT_EQ(taken.adj_close, aapl.adj_close);
  EXPECT_EQ(rest.symbols(), (std::vector<std::string>{"MSFT"}));
  EXPECT_FALSE(rest.contains("AAPL"));
  EXPECT_EQ(rest.rows(), 2);
  EXPECT_EQ(rest.report().rows, panel.report().rows);
  try {
    (void)rest.take("AAPL");
    ADD_FAILURE() << "a series was taken twice";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown symbol 'AAPL'"), std::string::npos) << e.what();
  }
}

TEST_F(PricePanelTest, CountedAndGrownColumnsHoldTheSameBarsWithoutSpareRoom) {
  // Symbols interleaved by date, as most vendors' files: every series grows on every day. A first pass counts each
  // symbol's rows, so that its columns take their room once instead of doubling (up to twice what they hold; the
  // peak this saves is measured in bench/growth.sh). Either way the columns end without spare room.
  std::string text = "date,symbol,open,high,low,close,adj_close,volume\r\n\r\n";
  const std::vector<std::string> symbols = {"A", "BB", " C "};
  Date day = Date::from_ymd(2014, 1, 2);
  for (int d = 0; d < 300; ++d, day = day + 1) {
    for (std::size_t k = 0; k < symbols.size(); ++k) {
      if (k == 1 && d % 3 == 0) {
        continue;  // BB trades two days in three
      }
      text += day.to_string();
      text += ',';
      text += symbols[k];
      text += ",10,20,9,";
      text += std::to_string(10 + d % 7);
      text += ",10,100\r\n";
    }
  }
  PricePanel panel = PricePanel::load_csv(write(text));
  ASSERT_EQ(panel.symbols(), (std::vector<std::string>{"A", "BB", "C"}));
  for (const auto& symbol : panel.symbols()) {
    const PriceSeries& series = panel.series(symbol);
    EXPECT_EQ(series.size(), symbol == "BB" ? 200U : 300U) << symbol;
    EXPECT_EQ(series.dates.capacity(), series.size()) << symbol;
    for (const auto* column : {&series.open, &series.high, &series.low, &series.close, &series.adj_close,
                               &series.volume}) {
      EXPECT_EQ(column->capacity(), series.size()) << symbol;
    }
    EXPECT_EQ(series.close.back(), 15.0F) << symbol;  // day 299
  }
  const PricePanel counted = panel;

  // A quoted field stops the count (a quote can hide a delimiter or a line break): the columns grow as they fill and
  // give back their spare room, and the bars are the same.
  std::string quoted = text;
  const auto at = quoted.find(",A,");
  quoted.replace(at, 3, ",\"A\",");
  panel = PricePanel::load_csv(write(quoted));
  for (const auto& symbol : counted.symbols()) {
    EXPECT_EQ(panel.series(symbol).dates, counted.series(symbol).dates) << symbol;
    EXPECT_EQ(panel.series(symbol).close, counted.series(symbol).close) << symbol;
    EXPECT_EQ(panel.series(symbol).close.capacity(), panel.series(symbol).size()) << symbol;
  }

  // Rows the count saw but the parse skips (marked missing) leave no spare room either.
  std::string missing = text;
  const auto row = missing.find("2014-01-05,A,");
  missing.replace(missing.find(",10,20,9,", row), 9, ",null,20,9,");
  panel = PricePanel::load_csv(write(missing));
  EXPECT_EQ(panel.report().missing_rows, 1);
  EXPECT_EQ(panel.series("A").size(), 299U);
  EXPECT_EQ(panel.series("A").volume.capacity(), 299U);
}

TEST_F(PricePanelTest, MissingRowsAreSkippedAndCounted) {
  const auto path = write(std::string(kHeader) +
                          "PTR,2016-06-28,10,11,9,10.5,10.4,1000\n"
                          "PTR,2016-06-29,null,null,null,null,null,null\n"
                          "PTR,2016-06-30,10,11,9,10.5,10.4,1000\n");
  const PricePanel panel = PricePanel::load_csv(path);
  EXPECT_EQ(panel.rows(), 2);
  EXPECT_EQ(panel.report().missing_rows, 1);
  EXPECT_EQ(panel.report().rows, 3);
}

TEST_F(PricePanelTest, SingleInstrumentFileWithVendorColumnNames) {
  const auto path = write("Date,Open,High,Low,Close,Volume\n2000-01-03,1469.25,1478,1438.36,1455.22,931800000\n");
  PriceCsvOptions options = PriceCsvOptions::from_config(Config::parse(R"({
    "default_symbol": "SPX",
    "columns": {"date": "Date", "open": "Open", "high": "High", "low": "Low", "close": "Close", "volume": "Volume"}
  })"));
  const PricePanel panel = PricePanel::load_csv(path, options);
  EXPECT_EQ(panel.symbols(), (std::vector<std::string>{"SPX"}));
  // No adjusted close column: the close stands in for it.
  EXPECT_FLOAT_EQ(panel.series("SPX").adj_close[0], 1455.22);
  EXPECT_EQ(PriceCsvOptions::from_config(Config(options.to_json())).to_json(), options.to_json());
  options.default_symbol.clear();
  try {
    PricePanel::load_csv(path, options);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.field(), "symbol");
    EXPECT_NE(std::string(e.what()).find("set default_symbol"), std::string::npos);
  }
}

struct BadCase {
  const char* name;
  const char* row;
  std::int64_t line;
  const char* field;
  const char* message;
};

TEST_F(PricePanelTest, BadRowsNameFileLineAndField) {
  const std::vector<BadCase> cases = {
      {"not a number", "A,2014-01-03,abc,11,9,10,10,1", 3, "open", "expected a number, got 'abc'"},
      {"nan", "A,2014-01-03,10,11,9,nan,10,1", 3, "close", "expected a finite number, got 'nan'"},
      {"infinity", "A,2014-01-03,10,11,9,10,10,inf", 3, "volume", "expected a finite number, got 'inf'"},
      {"negative price", "A,2014-01-03,10,11,-9,10,10,1", 3, "low", "expected a positive price, got '-9'"},
      {"negative volume", "A,2014-01-03,10,11,9,10,10,-1", 3, "volume", "expected a volume >= 0, got '-1'"},
      {"bad date", "A,2014-13-03,10,11,9,10,10,1", 3, "date", "expected a date YYYY-MM-DD, got '2014-13-03'"},
      {"duplicate date", "A,2014-01-02,10,11,9,10,10,1", 3, "date", "duplicate date 2014-01-02 for A (first at line 2)"},
      {"out of order", "A,2014-01-01,10,11,9,10,10,1", 3, "date", "date 2014-01-01 for A comes after 2014-01-02"},
      {"field count", "A,2014-01-03,10,11,9,10,1", 3, "", "expected 8 fields"},
      {"empty symbol", ",2014-01-03,10,11,9,10,10,1", 3, "symbol", "the symbol is empty"},
      {"high below low", "A,2014-01-03,10,9,11,10,10,1", 3, "", "inconsistent bar"},
      {"past float32", "A,2014-01-03,10,11,9,10,10,1e39", 3, "volume", "expected a value within float32's range"},
      {"rounds to 0 in float32", "A,2014-01-03,10,11,1e-39,10,10,1", 3, "low",
       "expected a value within float32's range (1.2e-38 to 3.4e38), got '1e-39'"},
  };
  for (const auto& c : cases) {
    std::string text = kHeader;  // appended in place: a temporary string + a literal trips GCC 12's -Warray-bounds
    text += "A,2014-01-02,10,11,9,10,10,1\n";
    text += c.row;
    text += '\n';
    const auto path = write(text);
    try {
      PricePanel::load_csv(path);
      ADD_FAILURE() << c.name << ": accepted";
    } catch (const DataError& e) {
      EXPECT_EQ(e.file(), path.string()) << c.name;
      EXPECT_EQ(e.record(), c.line) << c.name;
      EXPECT_EQ(e.field(), c.field) << c.name;
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.name << ": " << e.what();
    }
  }
}

TEST_F(PricePanelTest, LenientModeSkipsAndCountsBadRows) {
  const auto path = write(std::string(kHeader) +
                          "A,2014-01-02,10,11,9,10,10,1\n"
                          "A,2014-01-03,abc,11,9,10,10,1\n"
                          "A,2014-01-03,10,11,9,10,10,1\n"
                          "A,2014-01-03,10,11,9,10,10,1\n"
                          "B,2014-01-03,\"10\"x,11,9,10,10,1\n"
                          "B,2014-01-06,10,11,9,10,10,1\n");
  EXPECT_THROW(PricePanel::load_csv(path), DataError);
  PriceCsvOptions lenient;
  lenient.errors = ErrorMode::lenient;
  const PricePanel panel = PricePanel::load_csv(path, lenient);
  EXPECT_EQ(panel.rows(), 3);
  EXPECT_EQ(panel.report().bad_rows, 3);
  EXPECT_EQ(panel.series("A").size(), 2u);
  EXPECT_EQ(panel.series("B").size(), 1u);
}

TEST_F(PricePanelTest, AddValidatesSeries) {
  PricePanel panel;
  PriceSeries s;
  s.symbol = "X";
  s.dates = {Date::from_ymd(2014, 1, 3), Date::from_ymd(2014, 1, 2)};
  s.open = s.high = s.low = s.close = s.adj_close = s.volume = {1.0, 1.0};
  EXPECT_THROW(panel.add(s), Error);
  std::swap(s.dates[0], s.dates[1]);
  panel.add(s);
  EXPECT_THROW(panel.add(s), Error);
  s.symbol = "Y";
  s.volume.pop_back();
  EXPECT_THROW(panel.add(s), Error);
}

TEST(PricePanelRealData, StockNetPrices) {
  FINFUSE_REQUIRE_SHARED_DATA(path, "stocknet/prices.csv");
  const PricePanel panel = PricePanel::load_csv(path);
  // 108,592 rows in the file; three of them (PTR, REX, SNP on 2016-06-29) are all 'null'.
  EXPECT_EQ(panel.report().rows, 108592);
  EXPECT_EQ(panel.report().missing_rows, 3);
  EXPECT_EQ(panel.rows(), 108589);
  EXPECT_EQ(panel.size(), 88u);
  EXPECT_EQ(panel.date_range().first, Date::from_ymd(2012, 9, 4));
  const PriceSeries& aapl = panel.series("AAPL");
  EXPECT_FLOAT_EQ(aapl.adj_close[0], 87.121140);
}

TEST(PricePanelRealData, SP500Index) {
  FINFUSE_REQUIRE_SHARED_DATA(path, "market/sp500-2000.csv");
  PriceCsvOptions options;
  options.default_symbol = "SPX";
  options.columns.adj_close = "adjclose";
  const PricePanel panel = PricePanel::load_csv(path, options);
  // 5,105 daily bars: the file's last line has no line break, which a line count misses.
  EXPECT_EQ(panel.rows(), 5105);
  EXPECT_EQ(panel.date_range().first, Date::from_ymd(2000, 1, 3));
  EXPECT_EQ(panel.date_range().second, Date::from_ymd(2020, 4, 17));
}

}  // namespace
}  // namespace finfuse::data
