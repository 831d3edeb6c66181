// The corpus of bad inputs (tests/data/bad/, plus inputs too large or too deep to store, generated here): for each,
// the exact kind of error finfuse raises and that its message names the file and the position (line, field, JSON
// pointer). A few inputs that look odd but are valid (a byte-order mark with CRLF line ends) must be read.
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/text_corpus.h"
#include "fuzz/harness.h"
#include "support/credit_data.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <numeric>
#include <fstream>
#include <string>
#include <vector>

namespace finfuse {
namespace {

const std::filesystem::path kBad = std::filesystem::path(FINFUSE_SOURCE_DIR) / "tests" / "data" / "bad";

struct Case {
  std::string file;
  std::string parser;
  /// "DataError", "ConfigError", "IoError", or "ok" for an input that must be read.
  std::string kind;
  /// Pieces the message must contain besides the file name (the position, the field, what was expected).
  std::vector<std::string> message;
};

std::string kind_of(const std::exception& e) {
  if (dynamic_cast<const ConfigError*>(&e) != nullptr) {
    return "ConfigError";
  }
  if (dynamic_cast<const DataError*>(&e) != nullptr) {
    return "DataError";
  }
  if (dynamic_cast<const IoError*>(&e) != nullptr) {
    return "IoError";
  }
  if (dynamic_cast<const Error*>(&e) != nullptr) {
    return "Error";
  }
  return std::string("foreign ") + typeid(e).name();
}

void check(const Case& c, const std::filesystem::path& path) {
  SCOPED_TRACE(c.file);
  std::string kind = "ok";
  std::string message;
  try {
    fuzz::parse_file(c.parser, path);
  } catch (const std::exception& e) {
    kind = kind_of(e);
    message = e.what();
  }
  EXPECT_EQ(kind, c.kind) << message;
  if (c.kind == "ok") {
    return;
  }
  EXPECT_NE(message.find(path.filename().string()), std::string::npos) << "the message names the file: " << message;
  for (const auto& piece : c.message) {
    EXPECT_NE(message.find(piece), std::string::npos) << "expected '" << piece << "' in: " << message;
  }
}

TEST(BadInputs, EachStoredInputFailsWithItsKindFileAndPosition) {
  const std::vector<Case> cases = {
      {"prices_truncated.csv", "price_csv", "DataError", {":4:"}},
      {"prices_semicolon.csv", "price_csv", "DataError", {}},
      {"prices_bom_crlf.csv", "price_csv", "ok", {}},
      {"prices_nan_close.csv", "price_csv", "DataError", {":3:", "close"}},
      {"prices_inf_volume.csv", "price_csv", "DataError", {":2:", "volume"}},
      {"prices_out_of_order.csv", "price_csv", "DataError", {":3:", "increasing date order"}},
      {"prices_duplicate_date.csv", "price_csv", "DataError", {":3:"}},
      {"prices_empty.csv", "price_csv", "DataError", {}},
      {"prices_header_only.csv", "price_csv", "DataError", {"no price rows"}},
      {"prices_latin1.csv", "price_csv", "DataError", {":2:"}},
      {"prices_high_below_low.csv", "price_csv", "DataError", {":2:"}},
      {"prices_bad_date.csv", "price_csv", "DataError", {":2:", "date"}},
      {"table_inf_feature.csv", "numeric_csv", "DataError", {":3:", "pe"}},
      {"table_missing_field.csv", "numeric_csv", "DataError", {":3:"}},
      {"table_duplicate_column.csv", "numeric_csv", "DataError", {"pe"}},
      {"texts_truncated.jsonl", "text_jsonl", "DataError", {":2:"}},
      {"texts_not_object.jsonl", "text_jsonl", "DataError", {":2:"}},
      {"texts_bad_time.jsonl", "text_jsonl", "DataError", {":1:", "created_at"}},
      {"texts_latin1.jsonl", "text_jsonl", "DataError", {":1:"}},
      {"texts_duplicate_key.jsonl", "text_jsonl", "DataError", {":1:", "'symbol' appears twice"}},
      {"texts_text_not_string.jsonl", "text_jsonl", "DataError", {":1:", "text"}},
      {"stocknet_tweets_not_list.jsonl", "stocknet_jsonl", "DataError", {":1:", "tweets"}},
      {"edges_missing_target.csv", "edge_list", "DataError", {":3:", "target"}},
      {"edges_nan_weight.csv", "edge_list", "DataError", {":2:", "weight"}},
      {"config_duplicate_key.json", "config_json", "ConfigError", {"/runtime", "duplicate key"}},
      {"config_nan.json", "config_json", "ConfigError", {"line 1"}},
      {"config_unknown_section.json", "config_json", "ConfigError", {"/trainig", "training"}},
      {"vocab_no_unk.txt", "vocabulary", "DataError", {"[UNK]"}},
      {"vocab_duplicate_token.txt", "vocabulary", "DataError", {":6:", "the"}},
  };
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kBad)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, cases.size()) << "every file under tests/data/bad has a row in this table";
  for (const auto& c : cases) {
    check(c, kBad / c.file);
  }
}

TEST(BadInputs, GeneratedHugeAndDeepInputsFailEarlyWithTheirLimit) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_bad");
  // A 17 MiB field, over the 16 MiB per-field limit of the CSV reader.
  {
    std::ofstream out(dir / "prices_huge_field.csv");
    out << "symbol,date,open,high,low,close,adj_close,volume\nAAA,2015-01-02,10,10.5,9.8,10.2,10.2,\"";
    out << std::string(std::size_t{17} << 20, '7') << "\"\n";
  }
  check({"prices_huge_field.csv", "price_csv", "DataError", {":2:", "16777216"}}, dir / "prices_huge_field.csv");
  // A 65 MiB JSON line, over the 64 MiB line limit of the JSONL reader: refused before it is parsed.
  {
    std::ofstream out(dir / "texts_huge_line.jsonl");
    out << R"({"symbol": "AAA", "created_at": "2015-01-02T14:30:00Z", "text": ")" << std::string(std::size_t{65} << 20, 'x')
        << "\"}\n";
  }
  check({"texts_huge_line.jsonl", "text_jsonl", "DataError", {":1:", "67108864"}}, dir / "texts_huge_line.jsonl");
  // In lenient mode the runaway line is skipped unread and the lines after it are kept.
  {
    std::ofstream out(dir / "texts_runaway.jsonl", std::ios::app);
    out << std::string(std::size_t{3} << 20, 'y') << "\n"
        << R"({"symbol": "AAA", "created_at": "2015-01-02T15:30:00Z", "text": "after the runaway line"})" << "\n";
  }
  data::TextJsonlOptions lenient;
  lenient.errors = data::ErrorMode::lenient;
  lenient.max_line_bytes = 1 << 20;
  const auto corpus = data::TextCorpus::load_jsonl(dir / "texts_runaway.jsonl", lenient);
  EXPECT_EQ(corpus.size(), 1);
  EXPECT_EQ(corpus.report().bad_records, 1);
  // JSON nested 100,000 deep: an error, not a stack overflow.
  {
    std::ofstream out(dir / "texts_deep.jsonl");
    out << std::string(100000, '[') << std::string(100000, ']') << "\n";
  }
  check({"texts_deep.jsonl", "text_jsonl", "DataError", {":1:"}}, dir / "texts_deep.jsonl");
  {
    std::ofstream out(dir / "config_deep.json");
    out << R"({"runtime": )" << std::string(100000, '[') << std::string(100000, ']') << "}\n";
  }
  check({"config_deep.json", "config_json", "ConfigError", {"/runtime"}}, dir / "config_deep.json");
  std::filesystem::remove_all(dir);
}

TEST(BadInputs, NanAndInfinityInEveryPriceColumnNameTheColumn) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_bad_nan");
  const std::vector<std::string> columns = {"open", "high", "low", "close", "adj_close", "volume"};
  const std::vector<std::string> good = {"10", "10.5", "9.8", "10.2", "10.2", "1200"};
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (const std::string bad : {"NaN", "nan", "inf", "-Inf", "1e999"}) {
      auto values = good;
      values[c] = bad;
      const auto name = fmt::format("prices_{}_{}.csv", columns[c], bad);
      std::ofstream(dir / name) << "symbol,date,open,high,low,close,adj_close,volume\nAAA,2015-01-02,"
                                << fmt::format("{}", fmt::join(values, ",")) << "\n";
      check({name, "price_csv", "DataError", {":2:", "field '" + columns[c] + "'"}}, dir / name);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(BadInputs, DamagedBundlesAndCheckpointsNameTheFile) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_bad_binary");
  fuzz::write_binary_seeds("bundle_archive", (dir / "bundle").string());
  fuzz::write_binary_seeds("checkpoint", (dir / "checkpoint").string());
  // A bundle archive with one byte flipped in the middle (inside a stored file): a checksum or archive error.
  {
    auto bytes = read_file(dir / "bundle" / "model.ffbundle");
    bytes[bytes.size() / 2] ^= 0x20;
    write_file_atomically(dir / "flipped.ffbundle", bytes);
    std::string kind = "ok";
    std::string message;
    try {
      fuzz::parse_file("bundle_archive", dir / "flipped.ffbundle");
    } catch (const std::exception& e) {
      kind = kind_of(e);
      message = e.what();
    }
    EXPECT_TRUE(kind == "DataError" || kind == "IoError") << kind << ": " << message;
    EXPECT_NE(message.find("flipped.ffbundle"), std::string::npos) << message;
  }
  // A checkpoint cut in half: its seal says how much is missing, before LibTorch reads anything.
  {
    const auto bytes = read_file(dir / "checkpoint" / "checkpoint.pt");
    write_file_atomically(dir / "half.pt", bytes.substr(0, bytes.size() / 2));
    try {
      read_sealed_file(dir / "half.pt", "a checkpoint", false);
      ADD_FAILURE() << "a checkpoint cut in half was accepted";
    } catch (const DataError& e) {
      EXPECT_EQ(e.file(), (dir / "half.pt").string());
      EXPECT_NE(e.reason().find("truncated"), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(BadInputs, ABillionRowClaimInABinaryHeaderFailsBeforeAnyAllocation) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_bad_claim");
  finfuse::testing::write_credit_csv(dir / "credit.csv", 3, 40);
  data::NumericTableOptions table_options;
  table_options.kind = "static";
  table_options.entity_column = "id";
  table_options.label_column = "defaulted";
  const auto table = data::NumericTable::load_csv(dir / "credit.csv", table_options);
  const auto samples = data::static_samples(table);
  std::vector<std::size_t> train(samples.samples.size());
  std::iota(train.begin(), train.end(), 0);
  data::DatasetOptions options;
  options.modalities = {"numeric"};
  const auto bytes =
      data::MultimodalDataset::build(samples, data::DataSources{nullptr, nullptr, {{"t", &table}}}, options, train)
          .serialize();
  // The layout starts with the options (a length-prefixed string), then the entity names (a count, then strings).
  std::uint64_t options_size = 0;
  std::memcpy(&options_size, bytes.data(), sizeof(options_size));
  const std::size_t count_at = sizeof(std::uint64_t) + static_cast<std::size_t>(options_size);
  for (const std::uint64_t claim : {std::uint64_t{1000000000}, std::uint64_t{1} << 62}) {
    auto patched = bytes;
    std::memcpy(patched.data() + count_at, &claim, sizeof(claim));
    try {
      data::MultimodalDataset::deserialize(patched, "cache.ffcache");
      ADD_FAILURE() << "a claim of " << claim << " entities was accepted";
    } catch (const DataError& e) {
      EXPECT_EQ(e.file(), "cache.ffcache");
      EXPECT_NE(e.reason().find(fmt::format("a list of {} strings does not fit", claim)), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse
