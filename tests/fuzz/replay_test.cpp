// Every stored fuzzing input (the seed corpora under tests/fuzz/corpus and the inputs that once failed, under
// tests/fuzz/regressions) replayed through the fuzz harness in the ordinary build: each must be accepted or refused
// with a finfuse::Error, never crash or escape as another exception. Also: the generated binary seeds load, and
// damaged copies of them (truncated, a flipped byte) are refused cleanly.
#include "fuzz/harness.h"

#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace finfuse::fuzz {
namespace {

const std::filesystem::path kFuzzDir = std::filesystem::path(FINFUSE_SOURCE_DIR) / "tests" / "fuzz";

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(FuzzReplay, StoredInputsAreAcceptedOrRefusedCleanly) {
  std::size_t replayed = 0;
  for (const auto& folder : {"corpus", "regressions"}) {
    for (const auto& target : targets()) {
      const auto dir = kFuzzDir / folder / target;
      if (!std::filesystem::is_directory(dir)) {
        continue;
      }
      for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const auto bytes = read_bytes(entry.path());
        SCOPED_TRACE(entry.path().string());
        run(target, bytes.data(), bytes.size());  // aborts (failing this test) on anything but a finfuse::Error
        ++replayed;
      }
    }
  }
  EXPECT_GE(replayed, 12U);
}

TEST(FuzzReplay, SeedCorporaOfTheTextFormatsParse) {
  for (const auto& [target, file] : std::vector<std::pair<std::string, std::string>>{
           {"price_csv", "panel.csv"}, {"intraday_csv", "minutes.csv"}, {"csv_blocks", "quoted.csv"}, {"numeric_csv", "quarterly.csv"},
           {"text_jsonl", "flat.jsonl"},     {"stocknet_jsonl", "nested.jsonl"}, {"edge_list", "edges.csv"},
           {"config_json", "credit.json"},   {"config_json", "prices.json"}, {"vocabulary", "vocab.txt"},
           {"word_vectors", "glove.txt"},    {"word_vectors", "word2vec.txt"}, {"exchange_calendar", "closures.csv"},
           {"exchange_calendar", "minimal.csv"}}) {
    const auto bytes = read_bytes(kFuzzDir / "corpus" / target / file);
    EXPECT_TRUE(run(target, bytes.data(), bytes.size())) << target << "/" << file << " is a valid seed";
  }
}

// The seeds of the weight readers were written by torch.save, safetensors and transformers (tests/fuzz/make_seeds.py):
// each loads, except the legacy torch.save format, which is refused with a message.
TEST(FuzzReplay, SeedsWrittenByPythonLoad) {
  std::size_t seeds = 0;
  for (const std::string target : {"torch_save", "torch_save_pickle", "safetensors", "huggingface_config"}) {
    for (const auto& entry : std::filesystem::directory_iterator(kFuzzDir / "corpus" / target)) {
      const auto bytes = read_bytes(entry.path());
      const bool legacy = entry.path().filename() == "legacy.pt";
      const bool loaded = run(target, bytes.data(), bytes.size());
      EXPECT_EQ(loaded, !legacy) << entry.path();
      if (loaded != !legacy) {
        try {
          parse_file(target, entry.path());
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
        }
      }
      ++seeds;
    }
  }
  EXPECT_GE(seeds, 20U);
}

TEST(FuzzReplay, BinarySeedsLoadAndDamagedCopiesAreRefused) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_fuzz_seeds");
  for (const std::string target : {"bundle_archive", "checkpoint"}) {
    write_binary_seeds(target, (dir / target).string());
    std::size_t seeds = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir / target)) {
      ++seeds;
      auto bytes = read_bytes(entry.path());
      ASSERT_GT(bytes.size(), 64U);
      EXPECT_TRUE(run(target, bytes.data(), bytes.size())) << entry.path();
      // Cut in half, and with one byte flipped at several places: refused with a finfuse::Error or (a checkpoint
      // the trainer skips as damaged) not loaded, never a crash.
      const std::vector<std::uint8_t> half(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2));
      run(target, half.data(), half.size());
      for (const double where : {0.0, 0.1, 0.37, 0.5, 0.9, 0.999}) {
        auto flipped = bytes;
        flipped[static_cast<std::size_t>(where * static_cast<double>(flipped.size() - 1))] ^= 0x5A;
        run(target, flipped.data(), flipped.size());
      }
    }
    EXPECT_EQ(seeds, 1U) << target;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse::fuzz
