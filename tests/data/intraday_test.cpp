// Intraday bars: the streaming reader (its checks and messages, interleaved symbols, a file longer than its read
// buffer), and the intraday modality's windows, checked against windows taken by hand from the file's rows.
#include "finfuse/data/intraday_panel.h"

#include "finfuse/data/modalities/intraday.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/data/synthetic_universe.h"
#include "finfuse/training/run_config.h"

#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace finfuse::data {
namespace {

class IntradayTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = finfuse::testing::unique_temp_dir("finfuse_intraday"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& text, const std::string& name = "minute.csv") {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The DataError message of loading `text`, or "no error".
  std::string error_of(const std::string& text, const IntradayCsvOptions& options = {}) {
    try {
      IntradayPanel::load_csv(write(text), options);
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }

  std::filesystem::path dir_;
};

const char* kHeader = "symbol,time,open,high,low,close,volume\n";

std::int64_t instant(const char* text) { return parse_timestamp(text)->seconds(); }

TEST_F(IntradayTest, ReadsInterleavedSymbolsIntoTimeOrderedColumns) {
  std::string text = kHeader;
  text += "MSFT,2024-01-02T14:31:00Z,30,31,29,30.5,200\r\n";
  text += "AAPL,2024-01-02T14:31:00Z,10,11,9,10.5,100\r\n";
  text += "AAPL,2024-01-02T14:32:00Z,10.5,12,10,11.5,150\r\n";
  text += "\n";
  text += "MSFT,2024-01-02T14:32:00Z,30.5,32,30,31,0\r\n";
  text += "AAPL,\"2024-01-02T14:33:00Z\",11.5,11.5,11,11.25,50";  // quoted, and no line end at the end
  const IntradayPanel panel = IntradayPanel::load_csv(write(text));
  EXPECT_EQ(panel.symbols(), (std::vector<std::string>{"AAPL", "MSFT"}));
  EXPECT_EQ(panel.offsets(), (std::vector<std::int64_t>{0, 3, 5}));
  EXPECT_EQ(panel.rows(), 5);
  EXPECT_EQ(panel.report().rows, 5);
  const std::vector<std::int64_t> times(panel.known_at().begin(), panel.known_at().end());
  EXPECT_EQ(times, (std::vector<std::int64_t>{instant("2024-01-02T14:31:00Z"), instant("2024-01-02T14:32:00Z"),
                                              instant("2024-01-02T14:33:00Z"), instant("2024-01-02T14:31:00Z"),
                                              instant("2024-01-02T14:32:00Z")}));
  const std::vector<float> aapl_second(panel.values().data() + 5, panel.values().data() + 10);
  EXPECT_EQ(aapl_second, (std::vector<float>{10.5f, 12.0f, 10.0f, 11.5f, 150.0f}));
  EXPECT_EQ(panel.values()[4 * 5 + 4], 0.0f);  // MSFT's second bar's volume
  ASSERT_TRUE(panel.find("MSFT").has_value());
  EXPECT_EQ(*panel.find("MSFT"), 1U);
  EXPECT_FALSE(panel.find("IBM").has_value());
  // As of an instant: the last bar known then, nothing before the first.
  EXPECT_EQ(panel.last_known(0, Timestamp(instant("2024-01-02T14:32:30Z"))), 1);
  EXPECT_EQ(panel.last_known(0, Timestamp(instant("2024-01-02T14:33:00Z"))), 2);
  EXPECT_EQ(panel.last_known(1, Timestamp(instant("2024-01-03T00:00:00Z"))), 4);
  EXPECT_FALSE(panel.last_known(1, Timestamp(instant("2024-01-02T14:30:59Z"))).has_value());
}

TEST_F(IntradayTest, BarsStampedAtTheirStartAreKnownABarLater) {
  IntradayCsvOptions options;
  options.stamp = "start";
  options.bar_seconds = 300;
  const IntradayPanel panel = IntradayPanel::load_csv(write(std::string(kHeader) + "A,2024-01-02T14:30:00Z,1,1,1,1,1\n"), options);
  EXPECT_EQ(panel.known_at()[0], instant("2024-01-02T14:35:00Z"));
  EXPECT_FALSE(panel.last_known(0, Timestamp(instant("2024-01-02T14:34:59Z"))).has_value());
}

TEST_F(IntradayTest, BadRowsNameTheFileLineAndColumn) {
  const std::string h = kHeader;
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,1,1,1\nA,2024-01-02T14:31:00Z,1,1,1,1,1\n")
                .find("minute.csv:3: field 'time': time 2024-01-02T14:31:00Z for A comes before that of line 2; rows of a "
                      "symbol must be in increasing time order"),
            std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,1,1,1\nB,2024-01-02T14:32:00Z,1,1,1,1,1\nA,2024-01-02T14:32:00Z,1,1,1,1,1\n")
                .find("minute.csv:4: field 'time': duplicate time 2024-01-02T14:32:00Z for A (first at line 2)"),
            std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,1,nan,1\n").find("minute.csv:2: field 'close': expected a finite number, got 'nan'"),
            std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,0,1,1\n").find("minute.csv:2: field 'low': expected a positive price, got '0'"),
            std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,1,1,-5\n").find("minute.csv:2: field 'volume': expected a volume >= 0"),
            std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,1,x1,1\n").find("minute.csv:2: field 'close': expected a number, got 'x1'"),
            std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,1,1,1e39\n").find("field 'volume': expected a value within float32's range"),
            std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,0.5,1,1,1\n").find("minute.csv:2: inconsistent bar"), std::string::npos);
  EXPECT_NE(error_of(h + "A,14:32,1,1,1,1,1\n").find("minute.csv:2: field 'time': expected an instant (ISO 8601"), std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,1,1\n").find("minute.csv:2: expected 7 fields (as in the header), got 6"),
            std::string::npos);
  EXPECT_NE(error_of(h + ",2024-01-02T14:32:00Z,1,1,1,1,1\n").find("minute.csv:2: field 'symbol': the symbol is empty"),
            std::string::npos);
  EXPECT_NE(error_of(h + "A\xff,2024-01-02T14:32:00Z,1,1,1,1,1\n").find("the symbol is not valid UTF-8"), std::string::npos);
  const std::string missing = error_of("symbol,tiem,open,high,low,close,volume\n");
  EXPECT_NE(missing.find("minute.csv:1: field 'time': missing column (did you mean 'tiem'?); the header has"),
            std::string::npos)
      << missing;
  EXPECT_NE(error_of("").find("empty file: expected a header line"), std::string::npos);
  EXPECT_NE(error_of(h + "A,2024-01-02T14:32:00Z,1,1,1,NA,1\n").find("no intraday bars (1 row(s) marked missing, 0 bad"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("\xFF\xFEs\0y\0", 6)).find("minute.csv: the file is UTF-16 encoded (byte order mark)"),
            std::string::npos);
  EXPECT_EQ(error_of("\xEF\xBB\xBF" + h + "A,2024-01-02T14:32:00Z,1,1,1,1,1\n"), "no error");
  const auto io_error_of = [](const std::filesystem::path& path) -> std::string {
    try {
      IntradayPanel::load_csv(path);
    } catch (const IoError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(io_error_of(dir_ / "absent.csv").find("absent.csv: no such file"), std::string::npos);
  EXPECT_NE(io_error_of(dir_).find("is a directory, expected an intraday bar file"), std::string::npos);
}

TEST_F(IntradayTest, LenientModeSkipsBadAndMissingRowsAndKeepsTheRest) {
  IntradayCsvOptions options;
  options.errors = ErrorMode::lenient;
  std::string text = kHeader;
  text += "A,2024-01-02T14:31:00Z,1,1,1,1,10\n";
  text += "B,2024-01-02T14:31:00Z,5,5,5,5,50\n";
  text += "A,2024-01-02T14:32:00Z,2,2,2,bad,20\n";  // bad
  text += "B,2024-01-02T14:32:00Z,6,6,6,NA,60\n";   // missing
  text += "A,2024-01-02T14:33:00Z,3,3,3,3,30\n";
  text += "C,2024-01-02T14:33:00Z,3,3,3,-3,30\n";   // bad: C is left without bars
  text += "B,2024-01-02T14:33:00Z,7,7,7,7,70\n";
  const IntradayPanel panel = IntradayPanel::load_csv(write(text), options);
  EXPECT_EQ(panel.report().rows, 7);
  EXPECT_EQ(panel.report().bad_rows, 2);
  EXPECT_EQ(panel.report().missing_rows, 1);
  EXPECT_EQ(panel.symbols(), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(panel.offsets(), (std::vector<std::int64_t>{0, 2, 4}));
  std::vector<float> closes;
  for (std::int64_t r = 0; r < panel.rows(); ++r) {
    closes.push_back(panel.values()[static_cast<std::size_t>(r * 5 + 3)]);
  }
  EXPECT_EQ(closes, (std::vector<float>{1, 3, 5, 7}));
  EXPECT_EQ(panel.known_at()[3], instant("2024-01-02T14:33:00Z"));
}

// A file several times the reader's 8 MB buffer: lines cut by every block boundary are read whole.
TEST_F(IntradayTest, AFileLongerThanTheReadBufferIsReadWhole) {
  std::string text = kHeader;
  const std::int64_t start = instant("2024-01-02T14:31:00Z");
  constexpr int kRows = 400000;
  for (int i = 0; i < kRows; ++i) {
    const char* symbol = i % 3 == 0 ? "AAA" : (i % 3 == 1 ? "BBBBBB" : "C");
    text += fmt::format("{},{},{:.4f},{:.4f},{:.4f},{:.4f},{}\n", symbol, Timestamp(start + 60 * (i / 3)).to_string(),
                        100.0 + i * 1e-4, 101.0 + i * 1e-4, 99.0 + i * 1e-4, 100.5 + i * 1e-4, i);
  }
  ASSERT_GT(text.size(), std::size_t{3} * (8 << 20));
  const IntradayPanel panel = IntradayPanel::load_csv(write(text));
  ASSERT_EQ(panel.rows(), kRows);
  EXPECT_EQ(panel.symbols(), (std::vector<std::string>{"AAA", "BBBBBB", "C"}));
  // Row k of symbol s is input row 3k + s (AAA: s 0, BBBBBB: 1, C: 2).
  for (std::size_t s = 0; s < 3; ++s) {
    for (std::int64_t r = panel.begin(s); r < panel.end(s); r += 997) {
      const std::int64_t i = 3 * (r - panel.begin(s)) + static_cast<std::int64_t>(s);
      EXPECT_EQ(panel.values()[static_cast<std::size_t>(r * 5 + 4)], static_cast<float>(i));
      EXPECT_FLOAT_EQ(panel.values()[static_cast<std::size_t>(r * 5 + 3)], static_cast<float>(100.5 + i * 1e-4));
      EXPECT_EQ(panel.known_at()[static_cast<std::size_t>(r)], start + 60 * (i / 3));
    }
  }
}

TEST(IntradayFeatures, AreReturnsOnThePreviousCloseAndDemeanedLogVolume) {
  // open, high, low, close, volume of three bars
  const std::vector<float> values = {10, 11, 9, 10.5f, 100,  //
                                     10.5f, 12, 10, 11.5f, 150,  //
                                     11.5f, 11.5f, 11, 11.25f, 0};
  std::vector<float> out(10);
  IntradayModality::features(values.data(), 2, 2, out.data());  // the last two bars
  const double v1 = std::log1p(150.0);
  const double v2 = std::log1p(0.0);
  const double mean = (v1 + v2) / 2;
  // The window's first bar over its own open; the next over the first's close.
  const std::vector<double> expected = {0.0,          12 / 10.5 - 1, 10 / 10.5 - 1,    11.5 / 10.5 - 1,  v1 - mean,
                                        11.5 / 11.5 - 1, 11.5 / 11.5 - 1, 11 / 11.5 - 1, 11.25 / 11.5 - 1, v2 - mean};
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_NEAR(out[k], expected[k], 1e-6) << k;
  }
}

// One bar of minute.csv.
struct MinuteBar {
  std::int64_t time = 0;
  std::vector<double> values;  // open, high, low, close, volume
};

// minute.csv read line by line, by symbol, for windows taken by hand.
std::map<std::string, std::vector<MinuteBar>> read_minutes(const std::filesystem::path& path) {
  std::map<std::string, std::vector<MinuteBar>> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string symbol;
    std::string time;
    std::getline(fields, symbol, ',');
    std::getline(fields, time, ',');
    MinuteBar bar;
    bar.time = instant(time.c_str());
    std::string value;
    while (std::getline(fields, value, ',')) {
      bar.values.push_back(std::stod(value));
    }
    out[symbol].push_back(bar);
  }
  return out;
}

// A generated universe with minute bars for its last sessions: the run configuration written with it has the intraday
// modality; every sample's window is the last bars known at its decision, as taken by hand from the file, whether the
// dataset was built or reopened from its cache file.
TEST_F(IntradayTest, WindowsAreTheLastBarsKnownAtTheDecision) {
  const auto universe = dir_ / "u";
  generate_universe(UniverseOptions().stocks(6).years(0.2).sectors(2).peers(1).minute_days(4).seed(3), universe);
  auto run = training::RunConfig::load(universe / "run.json");
  ASSERT_TRUE(run.data.intraday.has_value());
  ASSERT_TRUE(run.data.dataset.uses("intraday"));
  run.data.dataset.intraday.window = 30;
  run.data.dataset.intraday.max_age_hours = 24 * 4;
  const auto minutes = read_minutes(universe / "minute.csv");

  for (const bool cached : {false, true}) {
    SCOPED_TRACE(cached ? "reopened from the cache" : "built");
    const auto cache = dir_ / "cache";
    if (cached) {
      (void)DataPipeline::build(run.data, cache);  // writes the file
    }
    const DataPipeline p = DataPipeline::build(run.data, cached ? cache : std::filesystem::path());
    EXPECT_EQ(p.from_cache(), cached);
    const auto& dataset = *p.dataset();
    const auto& modality = dataset.modality<IntradayModality>("intraday");
    EXPECT_EQ(modality.is_view(), cached);
    EXPECT_EQ(modality.specs().front().shape, (std::vector<std::int64_t>{30, 5}));
    std::vector<std::size_t> all(dataset.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      all[i] = i;
    }
    const Batch batch = dataset.collate(all);
    const auto& entry = batch.modalities.at("intraday");
    const auto values = entry.values.accessor<float, 3>();
    const auto present = entry.present.accessor<bool, 1>();
    std::int64_t with = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const Sample& sample = dataset.sample(i);
      const auto& bars = minutes.at(dataset.entities()[static_cast<std::size_t>(sample.entity)]);
      // By hand: the bars known at the decision, the last 30 of them, if the newest is at most 4 days old.
      std::size_t known = 0;
      while (known < bars.size() && bars[known].time <= sample.time().seconds()) {
        ++known;
      }
      const bool expect = known >= 30 && sample.time().seconds() - bars[known - 1].time <= 4 * 86400;
      ASSERT_EQ(present[static_cast<std::int64_t>(i)], expect) << i << " " << sample.time().to_string();
      if (!expect) {
        continue;
      }
      ++with;
      std::vector<float> window;
      for (std::size_t k = known - 30; k < known; ++k) {
        for (const double v : bars[k].values) {
          window.push_back(static_cast<float>(v));
        }
      }
      std::vector<float> expected(30 * 5);
      IntradayModality::features(window.data(), 29, 30, expected.data());
      for (std::int64_t d = 0; d < 30; ++d) {
        for (std::int64_t f = 0; f < 5; ++f) {
          ASSERT_EQ(values[static_cast<std::int64_t>(i)][d][f], expected[static_cast<std::size_t>(d * 5 + f)])
              << i << " " << d << " " << f;
        }
      }
    }
    // Decisions on the minute days and the next: 6 stocks x about 4 sessions.
    EXPECT_GE(with, 6 * 3);
    EXPECT_LT(with, static_cast<std::int64_t>(all.size()));
    EXPECT_NEAR(dataset.coverage("intraday"), static_cast<double>(with) / static_cast<double>(all.size()), 1e-9);
  }
}

TEST_F(IntradayTest, TheConfigurationNamesItsKeys) {
  const DataConfig c = DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "p.csv"}, "intraday": {"path": "m.csv", "delimiter": "\t", "stamp": "start", "bar_seconds": 300},
    "split": {"kind": "random"}, "dataset": {"modalities": ["price", "intraday"], "intraday": {"window": 60}}
  })"), "/base");
  ASSERT_TRUE(c.intraday.has_value());
  EXPECT_EQ(c.intraday->path.string(), "/base/m.csv");
  EXPECT_EQ(c.intraday->options.delimiter, '\t');
  EXPECT_EQ(c.intraday->options.bar_seconds, 300);
  EXPECT_EQ(c.dataset.intraday.window, 60);
  EXPECT_EQ(c.input_files(), (std::vector<std::filesystem::path>{"/base/p.csv", "/base/m.csv"}));
  const auto error = [](const std::string& text) -> std::string {
    try {
      DataConfig::from_config(Config::parse(text, "data.json"), "/base");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error(R"({"prices": {"path": "p.csv"}, "split": {"kind": "random"}, "intraday": {"path": "m.csv", "delimiter": " "}})").find("/intraday/delimiter"),
            std::string::npos);
  EXPECT_NE(error(R"({"prices": {"path": "p.csv"}, "split": {"kind": "random"}, "intraday": {"path": "m.csv", "stamp": "middle"}})").find("/intraday/stamp"),
            std::string::npos);
  EXPECT_NE(error(R"({"prices": {"path": "p.csv"}, "split": {"kind": "random"}, "dataset": {"intraday": {"window": 0}}})").find("/dataset/intraday/window"),
            std::string::npos);
}

TEST_F(IntradayTest, TheModalityNeedsItsSource) {
  const auto universe = dir_ / "u";
  generate_universe(UniverseOptions().stocks(4).years(0.1).sectors(2).peers(1).minute_days(2).seed(4), universe);
  auto run = training::RunConfig::load(universe / "run.json");
  run.data.intraday.reset();
  try {
    (void)DataPipeline::build(run.data);
    FAIL() << "built without intraday bars";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the 'intraday' modality needs intraday bars: set data.intraday"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace finfuse::data
