// finfuse's WordPiece tokenizer against Hugging Face's tokenizers library (the BertWordPiece pipeline behind
// transformers' BertTokenizer): tests/parity/tokenizer_references.py writes a vocabulary and the ids that tokenizers
// gives for the Financial PhraseBank, StockNet tweets (where the data are present), edge cases and sentence pairs;
// every one must come out identical here.
#include "finfuse/data/tokenizer.h"

#include "finfuse/core/config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace finfuse::data {
namespace {

std::string join(const std::vector<std::int64_t>& ids) {
  std::string out;
  for (const auto id : ids) {
    if (!out.empty()) {
      out += ' ';
    }
    out += std::to_string(id);
  }
  return out;
}

TEST(TokenizerParity, IdsAndTokenTypesMatchHuggingFaceTokenizers) {
  const char* dir = std::getenv("FINFUSE_TOKENIZER_PARITY_DIR");
  if (dir == nullptr) {
    GTEST_SKIP() << "FINFUSE_TOKENIZER_PARITY_DIR is not set (ctest sets it where a Python with tokenizers exists)";
  }
  const std::filesystem::path root(dir);
  const auto vocab = root / "vocab.txt";
  std::ifstream in(root / "references.jsonl");
  ASSERT_TRUE(in) << (root / "references.jsonl");
  const auto summary = nlohmann::json::parse(std::ifstream(root / "summary.json"));

  // One tokenizer per (lowercase, strip_accents, max_length).
  std::map<std::tuple<bool, int, std::int64_t>, std::unique_ptr<Tokenizer>> tokenizers;
  const auto tokenizer_for = [&](bool lowercase, const nlohmann::json& strip, std::int64_t max_length) -> Tokenizer& {
    const int strip_key = strip.is_null() ? -1 : (strip.get<bool>() ? 1 : 0);
    auto& slot = tokenizers[{lowercase, strip_key, max_length}];
    if (!slot) {
      TokenizerOptions options;
      options.kind = "wordpiece";
      options.vocab_file = vocab.string();
      options.lowercase = lowercase;
      if (!strip.is_null()) {
        options.strip_accents = strip.get<bool>();
      }
      options.add_special_tokens = true;
      options.max_length = max_length;
      slot = std::make_unique<Tokenizer>(Tokenizer::load_wordpiece(options));
    }
    return *slot;
  };

  std::map<std::string, std::int64_t> checked;
  std::map<std::string, std::int64_t> mismatched;
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto ref = nlohmann::json::parse(line);
    const auto source = ref.at("source").get<std::string>();
    const auto max_length = ref.at("max_length").get<std::int64_t>();
    auto& tokenizer = tokenizer_for(ref.at("lowercase").get<bool>(), ref.at("strip_accents"),
                                    max_length == 0 ? 1 << 20 : max_length);
    const auto expected_ids = ref.at("ids").get<std::vector<std::int64_t>>();
    const auto expected_types = ref.at("types").get<std::vector<std::int64_t>>();
    Encoding got;
    if (ref.contains("pair")) {
      got = tokenizer.encode_pair(ref.at("text").get<std::string>(), ref.at("pair").get<std::string>());
    } else {
      got.ids = tokenizer.encode(ref.at("text").get<std::string>());
      got.types.assign(got.ids.size(), 0);
    }
    ++checked[source];
    if (got.ids != expected_ids || got.types != expected_types) {
      if (++mismatched[source] <= 5) {
        ADD_FAILURE() << "references.jsonl line " << number << " (" << source << ", lowercase "
                      << ref.at("lowercase") << ", strip_accents " << ref.at("strip_accents") << ", max_length "
                      << max_length << "): " << ref.at("text") << (ref.contains("pair") ? " | " : "")
                      << (ref.contains("pair") ? ref.at("pair").dump() : "") << "\n  tokenizers: " << join(expected_ids)
                      << " (types " << join(expected_types) << ")\n  finfuse:    " << join(got.ids) << " (types "
                      << join(got.types) << ")\n  tokens: " << ref.at("tokens");
      }
    }
  }
  for (const auto& [source, count] : checked) {
    std::cout << source << ": " << count << " encodings compared, " << mismatched[source] << " different\n";
  }
  EXPECT_GT(checked["edge"], 0);
  EXPECT_GT(checked["pairs"], 0);
  for (const char* name : {"phrasebank", "tweets"}) {
    if (summary.at("present").at(name).get<bool>()) {
      EXPECT_GT(checked[name], 1000) << name;
    } else {
      std::cout << name << ": the data set is not in the data folder; only the edge cases and pairs were compared\n";
    }
  }
}

TEST(BertNormalization, HandCheckedCases) {
  // Cases whose normalised words are known without the reference (BERT's rules read by hand).
  TokenizerOptions options;
  const auto words = [&](const std::string& text) {
    std::string out;
    for (const auto& w : Tokenizer::build_word(options, {}).pre_tokenize(text)) {
      if (!out.empty()) {
        out += '|';
      }
      out += w;
    }
    return out;
  };
  EXPECT_EQ(words("Café DÉJÀ"), "cafe|deja");                 // accents stripped, Unicode lower-casing
  EXPECT_EQ(words("苹果公司"), "苹|果|公|司");                  // every CJK ideograph a word
  EXPECT_EQ(words("a\x01" "b c\xE2\x80\x8B" "d"), "ab|cd");    // control and format characters removed
  EXPECT_EQ(words("«x»—y"), "«|x|»|—|y");                      // Unicode punctuation split off
  EXPECT_EQ(words("ΣΑΣ"), "σασ");                               // one code point at a time: no final sigma
  EXPECT_EQ(words("a\xC2\xA0" "b\xE3\x80\x80" "c"), "a|b|c");   // no-break and ideographic spaces
  options.strip_accents = false;
  EXPECT_EQ(words("Café"), "café");
  options.lowercase = false;
  options.strip_accents.reset();  // follows lowercase: kept
  EXPECT_EQ(words("Café"), "Café");
  options.normalization = "ascii";  // the tokenizers saved before BERT normalisation
  options.lowercase = true;
  EXPECT_EQ(words("Café «X»"), "café|«x»");
}

}  // namespace
}  // namespace finfuse::data
