#include "finfuse/data/tokenizer.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

namespace finfuse::data {
namespace {

constexpr const char* kPad = "[PAD]";
constexpr const char* kUnk = "[UNK]";
constexpr const char* kCls = "[CLS]";
constexpr const char* kSep = "[SEP]";
// BERT leaves words longer than this as [UNK] rather than splitting them.
constexpr std::size_t kMaxWordPieceChars = 100;

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_ascii_punctuation(unsigned char c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

// Byte offsets of the UTF-8 code points of `word`, plus its size.
std::vector<std::size_t> code_point_offsets(const std::string& word) {
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) {
      offsets.push_back(i);
    }
  }
  offsets.push_back(word.size());
  return offsets;
}

}  // namespace

TokenizerOptions TokenizerOptions::from_config(const Config& config) {
  TokenizerOptions o;
  o.kind = config.get_choice("kind", o.kind, {"word", "wordpiece"});
  o.lowercase = config.get<bool>("lowercase", o.lowercase);
  o.split_punctuation = config.get<bool>("split_punctuation", o.split_punctuation);
  o.min_frequency = config.get<std::int64_t>("min_frequency", o.min_frequency, Range::positive());
  o.max_vocab = config.get<std::int64_t>("max_vocab", o.max_vocab, Range::at_least(5));
  o.vocab_file = config.get<std::string>("vocab_file", o.vocab_file);
  if (o.kind == "wordpiece" && o.vocab_file.empty()) {
    config.fail_at("vocab_file", "a WordPiece tokenizer needs a vocab.txt");
  }
  o.max_length = config.get<std::int64_t>("max_length", o.max_length, Range::closed(1, 1 << 20));
  o.add_special_tokens = config.get<bool>("add_special_tokens", o.add_special_tokens);
  if (o.add_special_tokens && o.max_length < 3) {
    config.fail_at("max_length", "must be >= 3 to hold [CLS], a token and [SEP]");
  }
  config.reject_unknown_keys();
  return o;
}

Json TokenizerOptions::to_json() const {
  return Json{{"kind", kind},
              {"lowercase", lowercase},
              {"split_punctuation", split_punctuation},
              {"min_frequency", min_frequency},
              {"max_vocab", max_vocab},
              {"vocab_file", vocab_file},
              {"max_length", max_length},
              {"add_special_tokens", add_special_tokens}};
}

std::vector<std::string> Tokenizer::pre_tokenize(std::string_view text) const {
  std::vector<std::string> words;
  std::string current;
  const auto flush = [&] {
    if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  };
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_space(c)) {
      flush();
    } else if (options_.split_punctuation && is_ascii_punctuation(c)) {
      flush();
      words.emplace_back(1, ch);
    } else {
      current += options_.lowercase && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch;
    }
  }
  flush();
  return words;
}

Tokenizer Tokenizer::build_word(const TokenizerOptions& options, const std::vector<std::string>& training_texts) {
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "word";
  std::unordered_map<std::string, std::int64_t> counts;
  for (const auto& text : training_texts) {
    for (auto& word : tokenizer.pre_tokenize(text)) {
      ++counts[std::move(word)];
    }
  }
  std::vector<std::pair<std::string, std::int64_t>> ranked(counts.begin(), counts.end());
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
  tokenizer.tokens_ = {kPad, kUnk, kCls, kSep};
  for (const auto& [token, count] : ranked) {
    if (count < options.min_frequency || static_cast<std::int64_t>(tokenizer.tokens_.size()) >= options.max_vocab) {
      break;
    }
    if (token != kPad && token != kUnk && token != kCls && token != kSep) {
      tokenizer.tokens_.push_back(token);
    }
  }
  tokenizer.index_vocabulary("word vocabulary");
  logger()->info("word vocabulary: {} tokens from {} training text(s) ({} distinct words, min frequency {})",
                 tokenizer.tokens_.size(), training_texts.size(), counts.size(), options.min_frequency);
  return tokenizer;
}

Tokenizer Tokenizer::load_wordpiece(const TokenizerOptions& options) {
  const std::filesystem::path path = options.vocab_file;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(path.string(), "no such file (WordPiece vocabulary)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string(), "cannot open for reading");
  }
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "wordpiece";
  std::unordered_map<std::string, std::int64_t> seen;
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (number == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      line.erase(0, 3);
    }
    if (line.empty()) {
      throw DataError(path.string(), number, "", "empty token in the vocabulary");
    }
    if (!seen.emplace(line, number).second) {
      throw DataError(path.string(), number, "",
                      fmt::format("duplicate token '{}' (first at line {})", line, seen[line]));
    }
    tokenizer.tokens_.push_back(line);
  }
  tokenizer.index_vocabulary(path.string());
  return tokenizer;
}

Tokenizer Tokenizer::create(const TokenizerOptions& options, const std::vector<std::string>& training_texts) {
  return options.kind == "wordpiece" ? load_wordpiece(options) : build_word(options, training_texts);
}

void Tokenizer::index_vocabulary(const std::string& where) {
  ids_.clear();
  ids_.reserve(tokens_.size());
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    ids_.emplace(tokens_[i], static_cast<std::int64_t>(i));
  }
  const auto require = [&](const char* token) {
    const auto it = ids_.find(token);
    if (it == ids_.end()) {
      throw DataError(where, 0, "", fmt::format("the vocabulary has no {} token", token));
    }
    return it->second;
  };
  pad_id_ = require(kPad);
  unk_id_ = require(kUnk);
  if (options_.add_special_tokens) {
    cls_id_ = require(kCls);
    sep_id_ = require(kSep);
  }
}

std::int64_t Tokenizer::id_of(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? unk_id_ : it->second;
}

void Tokenizer::wordpiece(const std::string& word, std::vector<std::int64_t>& out) const {
  const auto offsets = code_point_offsets(word);
  const std::size_t chars = offsets.size() - 1;
  if (chars > kMaxWordPieceChars) {
    out.push_back(unk_id_);
    return;
  }
  std::vector<std::int64_t> pieces;
  std::size_t start = 0;
  std::string candidate;
  while (start < chars) {
    std::size_t end = chars;
    std::int64_t found = -1;
    while (end > start) {
      candidate = start > 0 ? "##" : "";
      candidate.append(word, offsets[start], offsets[end] - offsets[start]);
      const auto it = ids_.find(candidate);
      if (it != ids_.end()) {
        found = it->second;
        break;
      }
      --end;
    }
    if (found < 0) {
      out.push_back(unk_id_);  // one unknown piece makes the whole word unknown, as in BERT
      return;
    }
    pieces.push_back(found);
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

std::vector<std::int64_t> Tokenizer::encode(std::string_view text) const {
  const std::int64_t specials = options_.add_special_tokens ? 2 : 0;
  const auto budget = static_cast<std::size_t>(options_.max_length - specials);
  std::vector<std::int64_t> ids;
  if (options_.add_special_tokens) {
    ids.push_back(cls_id_);
  }
  std::vector<std::int64_t> pieces;
  for (const auto& word : pre_tokenize(text)) {
    if (ids.size() - static_cast<std::size_t>(specials / 2) >= budget) {
      break;
    }
    if (options_.kind == "wordpiece") {
      pieces.clear();
      wordpiece(word, pieces);
      for (auto id : pieces) {
        if (ids.size() - static_cast<std::size_t>(specials / 2) >= budget) {
          break;
        }
        ids.push_back(id);
      }
    } else {
      ids.push_back(id_of(word));
    }
  }
  if (options_.add_special_tokens) {
    ids.push_back(sep_id_);
  }
  return ids;
}

EncodedBatch Tokenizer::encode_batch(const std::vector<std::string>& texts) const {
  EncodedBatch batch;
  batch.batch = static_cast<std::int64_t>(texts.size());
  batch.length = options_.max_length;
  batch.ids.assign(static_cast<std::size_t>(batch.batch * batch.length), pad_id_);
  batch.mask.assign(batch.ids.size(), 0);
  for (std::size_t b = 0; b < texts.size(); ++b) {
    const auto ids = encode(texts[b]);
    const auto row = b * static_cast<std::size_t>(batch.length);
    std::copy(ids.begin(), ids.end(), batch.ids.begin() + static_cast<std::ptrdiff_t>(row));
    std::fill_n(batch.mask.begin() + static_cast<std::ptrdiff_t>(row), ids.size(), 1);
  }
  return batch;
}

std::vector<std::string> Tokenizer::decode(const std::vector<std::int64_t>& ids) const {
  std::vector<std::string> out;
  for (auto id : ids) {
    FINFUSE_CHECK(id >= 0 && id < vocab_size(), "Tokenizer::decode: id ", id, " is outside the vocabulary of ",
                  vocab_size());
    out.push_back(tokens_[static_cast<std::size_t>(id)]);
  }
  return out;
}

Json Tokenizer::to_json() const { return Json{{"options", options_.to_json()}, {"tokens", tokens_}}; }

Tokenizer Tokenizer::from_json(const Config& state) {
  Tokenizer tokenizer;
  tokenizer.options_ = TokenizerOptions::from_config(state.child("options"));
  tokenizer.tokens_ = state.get<std::vector<std::string>>("tokens");
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < tokenizer.tokens_.size(); ++i) {
    if (!seen.emplace(tokenizer.tokens_[i], i).second) {
      state.child("tokens")[i].fail(fmt::format("duplicate token '{}'", tokenizer.tokens_[i]));
    }
  }
  try {
    tokenizer.index_vocabulary(state.source());
  } catch (const DataError& e) {
    state.fail_at("tokens", e.reason());
  }
  state.reject_unknown_keys();
  return tokenizer;
}

}  // namespace finfuse::data
