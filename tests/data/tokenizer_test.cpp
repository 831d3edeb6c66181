#include "finfuse/data/tokenizer.h"

#include "finfuse/core/error.h"

#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>

namespace finfuse::data {
namespace {

using Ids = std::vector<std::int64_t>;
using Words = std::vector<std::string>;

TEST(Tokenizer, PreTokenizeLowercasesAndSplitsPunctuation) {
  const Tokenizer t = Tokenizer::build_word(TokenizerOptions{}, {});
  EXPECT_EQ(t.pre_tokenize("Hello, $AAPL up 5%!\tCaf\xC3\xA9"),
            (Words{"hello", ",", "$", "aapl", "up", "5", "%", "!", "cafe"}));
  TokenizerOptions ascii;
  ascii.normalization = "ascii";
  EXPECT_EQ(Tokenizer::build_word(ascii, {}).pre_tokenize("Hello, $AAPL up 5%!\tCaf\xC3\xA9"),
            (Words{"hello", ",", "$", "aapl", "up", "5", "%", "!", "caf\xC3\xA9"}));
  TokenizerOptions keep;
  keep.lowercase = false;
  keep.split_punctuation = false;
  EXPECT_EQ(Tokenizer::build_word(keep, {}).pre_tokenize("AT_USER rt: $ AAPL"), (Words{"AT_USER", "rt:", "$", "AAPL"}));
}

TEST(Tokenizer, WordVocabularyFromTrainingTexts) {
  TokenizerOptions options;
  options.min_frequency = 2;
  options.max_length = 4;
  const Tokenizer t = Tokenizer::build_word(options, {"a b b c", "b c d"});
  // Counts: b 3, c 2, a 1, d 1; the specials come first.
  EXPECT_EQ(t.vocab_size(), 6);
  EXPECT_EQ(t.encode("b a c"), (Ids{4, 1, 5}));
  EXPECT_EQ(t.encode("b b b b b b"), (Ids{4, 4, 4, 4}));  // truncated to max_length
  const EncodedBatch batch = t.encode_batch({"c", "b c b"});
  EXPECT_EQ(batch.ids, (Ids{5, 0, 0, 0, 4, 5, 4, 0}));
  EXPECT_EQ(batch.mask, (Ids{1, 0, 0, 0, 1, 1, 1, 0}));
  options.max_vocab = 5;
  EXPECT_EQ(Tokenizer::build_word(options, {"a b b c", "b c d"}).vocab_size(), 5);
}

// The splitting rule written out plainly, as an independent reference: whitespace separates, ASCII punctuation is a
// word of its own, ASCII letters are lowercased, every other byte belongs to a word.
Words reference_words(const std::string& text) {
  Words out;
  std::string current;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (!current.empty()) {
        out.push_back(current);
      }
      current.clear();
    } else if (c < 128 && std::ispunct(c) != 0) {
      if (!current.empty()) {
        out.push_back(current);
      }
      current.clear();
      out.emplace_back(1, ch);
    } else {
      current += static_cast<char>(c < 128 ? std::tolower(c) : c);
    }
  }
  if (!current.empty()) {
    out.push_back(current);
  }
  return out;
}

TEST(Tokenizer, WordVocabularyAndIdsMatchAPlainReferenceOnManyTexts) {
  // Enough texts for several counting chunks; words of 1 to 20 bytes (the hash reads 8-byte blocks), mixed case,
  // punctuation and UTF-8 bytes.
  std::mt19937 rng(7);
  const std::string alphabet = "abcdeABCDE$%,.!\xC3\xA9 \t";
  std::vector<std::string> texts(6000);
  for (auto& text : texts) {
    const auto length = std::uniform_int_distribution<int>(0, 60)(rng);
    for (int k = 0; k < length; ++k) {
      text += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
    }
  }
  TokenizerOptions options;
  options.normalization = "ascii";  // the reference splits as "ascii" does (BERT's normalisation: the parity test)
  options.min_frequency = 3;
  options.max_vocab = 400;
  options.max_length = 12;
  auto original = std::make_unique<Tokenizer>(Tokenizer::build_word(options, texts));
  const Tokenizer t = *original;  // the index must not refer to the original's strings
  original.reset();

  std::map<std::string, std::int64_t> counts;
  for (const auto& text : texts) {
    for (const auto& word : reference_words(text)) {
      ++counts[word];
    }
  }
  std::vector<std::pair<std::string, std::int64_t>> ranked(counts.begin(), counts.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Words expected = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
  for (const auto& [word, count] : ranked) {
    if (count >= options.min_frequency && static_cast<std::int64_t>(expected.size()) < options.max_vocab) {
      expected.push_back(word);
    }
  }
  ASSERT_EQ(t.tokens(), expected);

  for (const auto& text : texts) {
    const auto words = reference_words(text);
    Ids ids;
    for (std::size_t k = 0; k < words.size() && k < 12; ++k) {
      const auto it = std::find(expected.begin(), expected.end(), words[k]);
      ids.push_back(it == expected.end() ? 1 : it - expected.begin());
    }
    ASSERT_EQ(t.encode(text), ids) << text;
    ASSERT_EQ(t.pre_tokenize(text), words) << text;
  }
  EXPECT_EQ(t.id_of("[UNK]"), 1);
  EXPECT_EQ(t.id_of("not-a-token"), t.unk_id());
}

class WordPieceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::finfuse::testing::unique_temp_dir("finfuse_wordpiece_test");
    std::filesystem::create_directories(dir_);
    vocab_ = write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\nrunn\n##ing\na\n##b\n,\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  TokenizerOptions options(std::int64_t max_length = 16, bool specials = false) const {
    TokenizerOptions o;
    o.kind = "wordpiece";
    o.vocab_file = vocab_;
    o.max_length = max_length;
    o.add_special_tokens = specials;
    return o;
  }

  std::filesystem::path dir_;
  std::string vocab_;
};

TEST_F(WordPieceTest, GreedyLongestMatchFirst) {
  const Tokenizer t = Tokenizer::load_wordpiece(options());
  EXPECT_EQ(t.decode(t.encode("unaffable")), (Words{"un", "##aff", "##able"}));
  EXPECT_EQ(t.decode(t.encode("Running, ab")), (Words{"runn", "##ing", ",", "a", "##b"}));
  // One unmatched piece makes the whole word unknown.
  EXPECT_EQ(t.decode(t.encode("unx xyz")), (Words{"[UNK]", "[UNK]"}));
  EXPECT_EQ(t.decode(t.encode(std::string(101, 'a'))), (Words{"[UNK]"}));
}

TEST_F(WordPieceTest, SpecialTokensAndTruncation) {
  const Tokenizer t = Tokenizer::load_wordpiece(options(4, true));
  EXPECT_EQ(t.decode(t.encode("unaffable running")), (Words{"[CLS]", "un", "##aff", "[SEP]"}));
  const Tokenizer restored = Tokenizer::from_json(Config(t.to_json()));
  EXPECT_EQ(restored.encode("unaffable running"), t.encode("unaffable running"));
}

TEST_F(WordPieceTest, BadVocabularies) {
  auto o = options();
  o.vocab_file = write("dup.txt", "[PAD]\n[UNK]\nab\nab\n");
  try {
    Tokenizer::load_wordpiece(o);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 4);
    EXPECT_NE(std::string(e.what()).find("duplicate token 'ab' (first at line 3)"), std::string::npos);
  }
  o.vocab_file = write("blank.txt", "[PAD]\n\n[UNK]\n");
  EXPECT_THROW(Tokenizer::load_wordpiece(o), DataError);
  o.vocab_file = write("nounk.txt", "[PAD]\nab\n");
  EXPECT_THROW(Tokenizer::load_wordpiece(o), DataError);
  o.vocab_file = (dir_ / "absent.txt").string();
  EXPECT_THROW(Tokenizer::load_wordpiece(o), IoError);
  EXPECT_THROW(TokenizerOptions::from_config(Config::parse(R"({"kind": "wordpeice"})")), ConfigError);
}

TEST_F(WordPieceTest, VocabularyLearntFromTrainingTexts) {
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i) {
    texts.push_back("Shares rallied as the rally lifted rallying stocks; stockholders sold shares.");
    texts.push_back("Earnings fell and the stock fell sharply, falling 5%.");
  }
  TokenizerOptions options;
  options.kind = "wordpiece";
  options.max_vocab = 120;
  const Tokenizer learnt = Tokenizer::build_wordpiece(options, texts);
  EXPECT_LE(learnt.vocab_size(), 200);
  EXPECT_EQ(learnt.id_of("[CLS]"), 2);
  // Every word of the training texts is covered by pieces: no [UNK].
  for (const auto id : learnt.encode(texts[0] + " " + texts[1])) {
    EXPECT_NE(id, learnt.unk_id());
  }
  // An unseen word made of seen characters splits into pieces; continuation pieces carry "##".
  const auto pieces = learnt.decode(learnt.encode("rallyholders"));
  ASSERT_GE(pieces.size(), 2u);
  for (std::size_t k = 1; k < pieces.size(); ++k) {
    EXPECT_EQ(pieces[k].rfind("##", 0), 0u) << pieces[k];
  }
  // A character never seen in training is unknown.
  EXPECT_EQ(learnt.decode(learnt.encode("zebra")), (Words{"[UNK]"}));
  // Saved as a vocab.txt, the vocabulary loads back into the same tokenizer.
  learnt.save_vocab(dir_ / "learnt.txt");
  auto reload = options;
  reload.vocab_file = (dir_ / "learnt.txt").string();
  const Tokenizer loaded = Tokenizer::load_wordpiece(reload);
  EXPECT_EQ(loaded.encode(texts[1]), learnt.encode(texts[1]));
  EXPECT_EQ(Tokenizer::create(reload, {}).vocab_size(), learnt.vocab_size());
  EXPECT_THROW(Tokenizer::build_wordpiece(options, {}), Error);
}

TEST(WordCounts, BatchesGiveTheTokenizerThatAllTheTextsGive) {
  // Texts in batches that do not outlive their counting (upper case, accents and punctuation among them): the word
  // and WordPiece vocabularies equal those built from all the texts at once.
  std::vector<std::string> texts;
  std::mt19937 random(7);
  const std::vector<std::string> words = {"Rally", "rally", "rallied", "Stocks", "fell", "Café", "café", "$AAPL,",
                                          "earnings", "beat", "miss", "guidance", "cut", "up", "down", "5%"};
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    for (int w = 0; w < 8; ++w) {
      text += words[random() % words.size()] + (w == 7 ? "." : " ");
    }
    texts.push_back(text);
  }
  for (const std::string kind : {"word", "wordpiece"}) {
    TokenizerOptions options;
    options.kind = kind;
    options.max_vocab = 60;
    options.min_frequency = 3;
    WordCounts counts(options);
    for (std::size_t first = 0; first < texts.size(); first += 700) {
      std::vector<std::string> batch(texts.begin() + static_cast<std::ptrdiff_t>(first),
                                     texts.begin() + static_cast<std::ptrdiff_t>(std::min(first + 700, texts.size())));
      counts.add(batch);
    }  // each batch is gone before the next is counted
    EXPECT_EQ(counts.texts(), 3000);
    const Tokenizer whole = Tokenizer::create(options, texts);
    const Tokenizer batched = Tokenizer::create(options, counts);
    EXPECT_EQ(batched.tokens(), whole.tokens()) << kind;
    EXPECT_EQ(batched.encode(texts[5]), whole.encode(texts[5])) << kind;
  }
  TokenizerOptions cased;
  cased.lowercase = false;
  WordCounts counts(cased);
  counts.add(texts);
  EXPECT_GT(counts.distinct(), 0u);
  TokenizerOptions lowered;
  try {
    Tokenizer::create(lowered, counts);
    ADD_FAILURE() << "counts of other words were taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("split texts otherwise"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace finfuse::data
