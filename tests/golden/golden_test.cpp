// Golden bundles and checkpoints (tests/golden/format-<bundle>-<checkpoint>/, written by tests/golden/make_golden.py
// with the finfuse of those format versions; io/format_version.h): every later finfuse must read them and predict what
// they predicted when they were written, or refuse them with an error naming the format version.
#include "finfuse/core/config.h"
#include "finfuse/data/csv.h"
#include "finfuse/io/bundle.h"
#include "finfuse/io/format_version.h"
#include "finfuse/io/predictor.h"
#include "support/process.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace finfuse::io {
namespace {

const std::filesystem::path kGolden = std::filesystem::path(FINFUSE_SOURCE_DIR) / "tests" / "golden";

// Every case folder of every format version kept.
std::vector<std::filesystem::path> cases() {
  std::vector<std::filesystem::path> out;
  for (const auto& version : std::filesystem::directory_iterator(kGolden)) {
    if (version.is_directory()) {
      for (const auto& c : std::filesystem::directory_iterator(version.path())) {
        if (std::filesystem::exists(c.path() / "bundle" / "manifest.json")) {
          out.push_back(c.path());
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The header and the rows of a predictions CSV, read as finfuse reads every CSV.
std::vector<std::vector<std::string>> read_csv_rows(const std::filesystem::path& path) {
  auto reader = data::CsvReader::open(path);
  std::vector<std::vector<std::string>> rows{reader.header()};
  data::CsvRecord record;
  while (reader.next(record)) {
    rows.emplace_back(record.fields.begin(), record.fields.end());
  }
  return rows;
}

// Two predictions CSVs agree: the same header, entities and dates, the same classes, probabilities and values within
// `tolerance` (another LibTorch or BLAS may round the last bits differently).
void expect_same_predictions(const std::filesystem::path& expected, const std::filesystem::path& actual,
                             double tolerance) {
  const auto a = read_csv_rows(expected);
  const auto b = read_csv_rows(actual);
  ASSERT_GT(a.size(), 1U) << expected;
  ASSERT_EQ(a.size(), b.size()) << expected << " vs " << actual;
  ASSERT_EQ(a[0], b[0]) << "header";
  double largest = 0.0;
  for (std::size_t r = 1; r < a.size(); ++r) {
    ASSERT_EQ(a[r].size(), b[r].size()) << "row " << r;
    for (std::size_t c = 0; c < a[r].size(); ++c) {
      const auto& column = a[0][c];
      const bool number = column.find(".p") != std::string::npos || column.find(".value") != std::string::npos;
      if (number && !a[r][c].empty()) {
        const double difference = std::abs(std::stod(a[r][c]) - std::stod(b[r][c]));
        largest = std::max(largest, difference);
        EXPECT_LE(difference, tolerance) << column << " of row " << r << ": " << a[r][c] << " vs " << b[r][c];
      } else if (column == "forward_return" && !a[r][c].empty()) {
        // Data, not a prediction: the return of two prices, each held as float32 (7 significant digits) since
        // format 1-1 was written, so within a few 1e-7 of the return of the file's decimal prices.
        EXPECT_NEAR(std::stod(a[r][c]), std::stod(b[r][c]), 1e-6) << column << " of row " << r;
      } else if (column.find(".class") == std::string::npos || tolerance < 1e-4) {
        EXPECT_EQ(a[r][c], b[r][c]) << column << " of row " << r;
      }
    }
  }
  std::cout << fmt::format("{}: {} rows, largest difference {:.3g}\n", expected.string(), a.size() - 1, largest);
}

TEST(Golden, EveryFormatVersionKeptHasItsCases) {
  const auto all = cases();
  ASSERT_GE(all.size(), 2U);
  // The current versions are among them: a format change comes with its golden files.
  const auto current = kGolden / fmt::format("format-{}-{}", kBundleFormat.current, kCheckpointFormat.current);
  EXPECT_TRUE(std::filesystem::is_directory(current)) << current << ": run tests/golden/make_golden.py";
}

TEST(Golden, BundlesPredictWhatTheyPredictedWhenWritten) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_golden_bundles");
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.string());
    const Predictor predictor(c / "bundle");
    const auto data = data::DataConfig::from_config(Config::load(c / "data.json"), c);
    const auto out = dir / (c.parent_path().filename().string() + "-" + c.filename().string() + ".csv");
    predictor.predict(data).write_csv(out);
    expect_same_predictions(c / "predictions.csv", out, 1e-5);
  }
  std::filesystem::remove_all(dir);
}

TEST(Golden, ABundleOfAnotherFormatIsRefusedWithItsVersion) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_golden_refused");
  const auto c = cases().front();
  std::filesystem::copy(c / "bundle", dir / "bundle", std::filesystem::copy_options::recursive);
  Json manifest;
  std::ifstream(dir / "bundle" / "manifest.json") >> manifest;
  const auto written_by = manifest.at("finfuse_version").get<std::string>();
  manifest["format"] = fmt::format("finfuse-bundle-{}", kBundleFormat.current + 1);
  std::ofstream(dir / "bundle" / "manifest.json", std::ios::trunc) << manifest.dump(2);
  try {
    read_bundle(dir / "bundle");
    ADD_FAILURE() << "a newer format was read";
  } catch (const DataError& e) {
    EXPECT_EQ(e.field(), "format");
    EXPECT_NE(std::string(e.what()).find(fmt::format("format version {} by finfuse {}", kBundleFormat.current + 1,
                                                     written_by)),
              std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

#ifdef FINFUSE_CLI

// `finfuse train --resume` on a copy of the case with the golden checkpoints as its run folder.
struct Resumed {
  int status = -1;
  std::string log;
  std::filesystem::path predictions;
};

Resumed resume_case(const std::filesystem::path& c, const std::string& kind, const std::filesystem::path& dir) {
  const auto work = dir / (c.filename().string() + "-" + kind);
  std::filesystem::create_directories(work);
  for (const auto& entry : std::filesystem::directory_iterator(c)) {
    if (entry.is_regular_file()) {
      std::filesystem::copy_file(entry.path(), work / entry.path().filename());
    }
  }
  const auto run = Config::load(c / "run.json");
  const auto seed = run.json().at("runtime").at("seed").get<std::int64_t>();
  const auto runs = work / "out" / "runs" / fmt::format("seed-{}", seed);
  std::filesystem::create_directories(runs);
  for (const auto& entry : std::filesystem::directory_iterator(c / "checkpoints" / kind)) {
    std::filesystem::copy_file(entry.path(), runs / entry.path().filename());
  }
  const auto log = work / "train.log";
  const auto pid = finfuse::testing::spawn(
      {FINFUSE_CLI, "train", "-c", (work / "run.json").string(), "-o", (work / "out").string(), "--resume"},
      {{"OMP_NUM_THREADS", "1"}}, log);
  const auto status = finfuse::testing::wait_for(pid, 300);
  Resumed r;
  r.status = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  r.log = finfuse::testing::read_text(log);
  r.predictions = work / "out" / "test_predictions.csv";
  return r;
}

TEST(Golden, CheckpointsResumeAndEndWithTheStoredTestPredictions) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_golden_checkpoints");
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.string());
    // The end of training: straight to evaluation with the best epoch's weights.
    const auto last = resume_case(c, "last", dir);
    ASSERT_EQ(last.status, 0) << last.log;
    EXPECT_NE(last.log.find("trainer: resumed from"), std::string::npos) << last.log;
    expect_same_predictions(c / "test_predictions.csv", last.predictions, 1e-5);
    // The middle of the first epoch: the rest of training again. Training on another LibTorch or BLAS can round
    // differently and drift a little over the steps, so the figures are compared more loosely.
    const auto middle = resume_case(c, "middle", dir);
    ASSERT_EQ(middle.status, 0) << middle.log;
    EXPECT_TRUE(std::regex_search(middle.log, std::regex(R"(trainer: resumed from \S+checkpoint-e000-s\d+\.pt \(epoch 1, batch [1-9])")))
        << middle.log;
    expect_same_predictions(c / "test_predictions.csv", middle.predictions, 2e-3);
  }
  std::filesystem::remove_all(dir);
}

#endif  // FINFUSE_CLI

}  // namespace
}  // namespace finfuse::io
