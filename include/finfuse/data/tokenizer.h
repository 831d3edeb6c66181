// Text to token ids: a word-level tokenizer whose vocabulary is built on the training split (minimum frequency,
// maximum size), and BERT's WordPiece tokenizer reading a standard vocab.txt or learning one from the training texts
// by byte-pair merges with BERT's "##" continuation marks. Both normalise text the same way: by default as Hugging
// Face's BERT tokenizer does (control characters removed, CJK ideographs and punctuation split off, accents stripped,
// Unicode lower-casing: the same ids for the same vocabulary), truncate and pad to a fixed length with an attention
// mask, encode sentence pairs with token types, and save to and load from JSON.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace finfuse::data {

struct TokenizerOptions {
#define FINFUSE_TOKENIZER_FIELDS(F)                                                                               \
  F(std::string, kind, "word", ::finfuse::FieldRule::one_of({"word", "wordpiece"}), "word or WordPiece tokens")  \
  F(std::string, normalization, "bert", ::finfuse::FieldRule::one_of({"bert", "ascii"}),                         \
    "\"bert\": Hugging Face's BERT normalisation (control characters removed, CJK ideographs and Unicode "         \
    "punctuation split off, accents stripped, Unicode lower-casing); \"ascii\": ASCII lower-casing and punctuation " \
    "only (tokenizers saved before this option)")                                                                 \
  F(bool, lowercase, true, {}, "lower-case letters before splitting")                                             \
  F(std::optional<bool>, strip_accents, std::nullopt, {},                                                          \
    "\"bert\" normalisation: strip accents (NFD, non-spacing marks dropped); null: when lower-casing, as BERT does") \
  F(bool, split_punctuation, true, {}, "split punctuation off words (\"$aapl,\" -> \"$\", \"aapl\", \",\")")     \
  F(std::int64_t, min_frequency, 2, ::finfuse::Range::positive(),                                                 \
    "word vocabularies: keep tokens seen at least this often in the training texts")                             \
  F(std::int64_t, max_vocab, 30000, ::finfuse::Range::at_least(5), "the most tokens (or WordPiece pieces) kept")  \
  F(std::string, vocab_file, "", {},                                                                              \
    "WordPiece: a vocab.txt (one token per line, [PAD] [UNK] [CLS] [SEP] among them); empty learns one from the " \
    "training texts")                                                                                             \
  F(std::int64_t, max_length, 64, ::finfuse::Range::closed(1, 1 << 20),                                           \
    "tokens per text after truncation (including [CLS] and [SEP])")                                              \
  F(bool, add_special_tokens, false, {}, "wrap every text as [CLS] ... [SEP] (BERT style)")
  FINFUSE_FIELDS(TokenizerOptions, FINFUSE_TOKENIZER_FIELDS)
#undef FINFUSE_TOKENIZER_FIELDS

  void validate(const Config& config) const;
};


/// A batch of encoded texts: row-major [batch, max_length] ids and a mask with 1 for real tokens, 0 for padding.
struct EncodedBatch {
  std::int64_t batch = 0;
  std::int64_t length = 0;
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> mask;
};

/// One encoded text or sentence pair: the ids and their token types (0 for the first text, [CLS] and its [SEP]; 1 for
/// the second text and its [SEP]), unpadded.
struct Encoding {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> types;
};

/// The training texts a vocabulary is built from, as views: of strings, of string views or a braced list. The texts
/// must outlive the call.
class TextViews {
 public:
  TextViews() = default;
  TextViews(const std::vector<std::string>& texts) : views_(texts.begin(), texts.end()) {}  // NOLINT: implicit
  TextViews(std::vector<std::string_view> texts) : views_(std::move(texts)) {}              // NOLINT: implicit
  TextViews(std::initializer_list<std::string_view> texts) : views_(texts) {}

  std::size_t size() const { return views_.size(); }
  bool empty() const { return views_.empty(); }
  std::string_view operator[](std::size_t i) const { return views_[i]; }

 private:
  std::vector<std::string_view> views_;
};

/// Word frequencies of training texts gathered a batch at a time (each batch counted on every intra-op thread), for
/// fitting a vocabulary on more text than is held at once: Tokenizer::create(options, counts) builds the tokenizer that
/// create(options, texts) builds on all the batches' texts together. Words are split as `options` says
/// (normalization, lowercase, strip_accents, split_punctuation).
class WordCounts {
 public:
  explicit WordCounts(const TokenizerOptions& options);
  WordCounts(WordCounts&&) noexcept;
  WordCounts& operator=(WordCounts&&) noexcept;
  ~WordCounts();

  /// Counts the words of `texts`, which need not outlive the call.
  void add(const TextViews& texts);
  /// Texts counted so far.
  std::int64_t texts() const { return texts_; }
  /// Distinct words counted so far.
  std::size_t distinct() const;

 private:
  friend class Tokenizer;
  struct Table;
  TokenizerOptions options_;
  std::int64_t texts_ = 0;
  std::unique_ptr<Table> table_;
};

class Tokenizer {
 public:
  /// A word-level tokenizer with its vocabulary built from `training_texts` (the training split only).
  static Tokenizer build_word(const TokenizerOptions& options, const TextViews& training_texts);
  /// A WordPiece tokenizer reading options.vocab_file. IoError / DataError (file, line) for a missing or bad vocabulary.
  static Tokenizer load_wordpiece(const TokenizerOptions& options);
  /// A WordPiece tokenizer whose vocabulary (up to max_vocab tokens) is learnt from `training_texts`: characters
  /// first, then the most frequent adjacent pieces of words seen at least min_frequency times are merged.
  static Tokenizer build_wordpiece(const TokenizerOptions& options, const TextViews& training_texts);
  /// One of the above, by options.kind and vocab_file (built tokenizers need the training texts).
  static Tokenizer create(const TokenizerOptions& options, const TextViews& training_texts);
  /// The same from the word counts of the training texts. finfuse::Error when `counts` split words otherwise than
  /// `options` would.
  static Tokenizer create(const TokenizerOptions& options, const WordCounts& counts);

  /// Lower-casing and splitting on white space and punctuation, as both kinds do before looking tokens up.
  std::vector<std::string> pre_tokenize(std::string_view text) const;
  /// Token ids of one text, truncated to max_length (special tokens included when enabled); no padding.
  std::vector<std::int64_t> encode(std::string_view text) const;
  /// The same written to out[0 .. max_length), returning how many were written: no allocation, for filling
  /// preassembled batches.
  std::int64_t encode_into(std::string_view text, std::int32_t* out) const;
  /// A sentence pair as BERT takes it: [CLS] first [SEP] second [SEP] (without the special tokens when they are off),
  /// truncated to max_length longest first as Hugging Face's tokenizers does: when both texts are too long each keeps
  /// half of the room (the longer one the odd token), else the longer one is cut to what the shorter leaves.
  Encoding encode_pair(std::string_view first, std::string_view second) const;
  /// Encodes and pads a batch to max_length.
  EncodedBatch encode_batch(const std::vector<std::string>& texts) const;
  /// The tokens of ids (for inspection).
  std::vector<std::string> decode(const std::vector<std::int64_t>& ids) const;

  std::int64_t vocab_size() const { return static_cast<std::int64_t>(tokens_.size()); }
  /// The vocabulary, by id.
  const std::vector<std::string>& tokens() const { return tokens_; }
  std::int64_t pad_id() const { return pad_id_; }
  std::int64_t unk_id() const { return unk_id_; }
  /// The id of a token, or unk_id().
  std::int64_t id_of(std::string_view token) const;
  const TokenizerOptions& options() const { return options_; }

  /// Writes the vocabulary as a BERT vocab.txt (one token per line, by id), atomically.
  void save_vocab(const std::filesystem::path& path) const;

  /// Options and vocabulary.
  Json to_json() const;
  static Tokenizer from_json(const Config& state);

 private:
  /// The builders above, from (word, count) pairs in any order: `distinct` words seen in `texts` training texts.
  static Tokenizer word_vocabulary(const TokenizerOptions& options,
                                   std::vector<std::pair<std::string, std::int64_t>> counts, std::size_t distinct,
                                   std::int64_t texts);
  static Tokenizer learnt_wordpiece(const TokenizerOptions& options,
                                    std::vector<std::pair<std::string, std::int64_t>> counts, std::int64_t texts);
  void index_vocabulary(const std::string& where);
  /// The id of `token`, or -1.
  std::int64_t find(std::string_view token) const;
  /// Every id of one text, without special tokens or truncation.
  std::vector<std::int32_t> all_ids(std::string_view text) const;
  /// Appends the WordPiece ids of one word to out[0 .. budget), returning how many; [UNK] for a word it cannot split.
  std::size_t wordpiece(std::string_view word, std::int32_t* out, std::size_t budget) const;

  TokenizerOptions options_;
  std::vector<std::string> tokens_;
  /// An open-addressing hash index of tokens_: a token id (-1 when empty) and the upper bits of its hash. Ids rather
  /// than keys, so a copied tokenizer's index stays valid.
  struct Slot {
    std::int32_t id = -1;
    std::uint32_t tag = 0;
  };
  std::vector<Slot> slots_;
  std::int64_t pad_id_ = 0;
  std::int64_t unk_id_ = 1;
  std::int64_t cls_id_ = -1;
  std::int64_t sep_id_ = -1;
};

}  // namespace finfuse::data
