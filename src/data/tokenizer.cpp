#include "finfuse/data/tokenizer.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <set>

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

// Calls visit(word) for every word of `text` as the tokenizer splits it (whitespace, optionally ASCII punctuation as
// words of their own, optionally lowercased); the word is a buffer reused between calls. Stops when visit returns
// false.
template <typename Visit>
void visit_words(std::string_view text, const TokenizerOptions& options, Visit&& visit) {
  std::string current;
  std::string single(1, ' ');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_space(c)) {
      if (!current.empty()) {
        if (!visit(current)) {
          return;
        }
        current.clear();
      }
    } else if (options.split_punctuation && is_ascii_punctuation(c)) {
      if (!current.empty()) {
        if (!visit(current)) {
          return;
        }
        current.clear();
      }
      single[0] = ch;
      if (!visit(single)) {
        return;
      }
    } else {
      current += options.lowercase && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch;
    }
  }
  if (!current.empty()) {
    visit(current);
  }
}

// Word frequencies of the training texts, counted on every intra-op thread (a map per thread, merged).
std::unordered_map<std::string, std::int64_t> count_words(const std::vector<std::string>& texts,
                                                          const TokenizerOptions& options) {
  std::unordered_map<std::string, std::int64_t> counts;
  std::mutex mutex;
  at::parallel_for(0, static_cast<std::int64_t>(texts.size()), 1024, [&](std::int64_t begin, std::int64_t end) {
    std::unordered_map<std::string, std::int64_t> local;
    for (auto t = begin; t < end; ++t) {
      visit_words(texts[static_cast<std::size_t>(t)], options, [&](const std::string& word) {
        auto it = local.find(word);
        if (it == local.end()) {
          local.emplace(word, 1);
        } else {
          ++it->second;
        }
        return true;
      });
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (counts.empty()) {
      counts = std::move(local);
      return;
    }
    for (auto& [word, count] : local) {
      counts[word] += count;
    }
  });
  return counts;
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
  visit_words(text, options_, [&](const std::string& word) {
    words.push_back(word);
    return true;
  });
  return words;
}

Tokenizer Tokenizer::build_word(const TokenizerOptions& options, const std::vector<std::string>& training_texts) {
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "word";
  const auto counts = count_words(training_texts, tokenizer.options_);
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

namespace {

// A word as a sequence of symbols during WordPiece training ("##" marks symbols that continue a word).
struct TrainingWord {
  std::vector<std::string> symbols;
  std::int64_t count = 0;
};

using SymbolPair = std::pair<std::string, std::string>;

struct PairHash {
  std::size_t operator()(const SymbolPair& p) const {
    return std::hash<std::string>()(p.first) * 1000003u ^ std::hash<std::string>()(p.second);
  }
};

// The merged symbol of a pair: "un" + "##aff" -> "unaff", "##aff" + "##able" -> "##affable".
std::string merged(const SymbolPair& pair) { return pair.first + pair.second.substr(2); }

}  // namespace

Tokenizer Tokenizer::build_wordpiece(const TokenizerOptions& options, const std::vector<std::string>& training_texts) {
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "wordpiece";
  tokenizer.options_.vocab_file.clear();

  // Word frequencies of the training texts, as this tokenizer splits them.
  const auto counts = count_words(training_texts, tokenizer.options_);
  FINFUSE_CHECK(!counts.empty(), "cannot learn a WordPiece vocabulary without training texts");
  std::vector<std::pair<std::string, std::int64_t>> sorted_words(counts.begin(), counts.end());
  std::sort(sorted_words.begin(), sorted_words.end());

  // Start from characters (word-initial ones plain, the others with "##"), then merge the most frequent adjacent
  // pair until the vocabulary is full: byte-pair encoding with BERT's continuation marks, as WordPiece
  // vocabularies are commonly learnt. Words rarer than min_frequency contribute characters only.
  tokenizer.tokens_ = {kPad, kUnk, kCls, kSep, "[MASK]"};
  std::set<std::string> vocabulary(tokenizer.tokens_.begin(), tokenizer.tokens_.end());
  const auto add = [&](const std::string& token) {
    if (vocabulary.insert(token).second) {
      tokenizer.tokens_.push_back(token);
    }
  };
  std::vector<TrainingWord> words;
  for (const auto& [word, count] : sorted_words) {
    const auto offsets = code_point_offsets(word);
    if (offsets.size() - 1 > kMaxWordPieceChars) {
      continue;
    }
    TrainingWord w;
    w.count = count;
    for (std::size_t k = 0; k + 1 < offsets.size(); ++k) {
      w.symbols.push_back((k > 0 ? "##" : "") + word.substr(offsets[k], offsets[k + 1] - offsets[k]));
    }
    for (const auto& symbol : w.symbols) {
      add(symbol);
      // Every character may also start or continue a word, so unseen words of the training alphabet stay coverable.
      add(symbol.rfind("##", 0) == 0 ? symbol.substr(2) : "##" + symbol);
    }
    if (count >= options.min_frequency && w.symbols.size() > 1) {
      words.push_back(std::move(w));
    }
  }

  // Pair counts and, per pair, the words that contain it; updated incrementally after each merge.
  std::unordered_map<SymbolPair, std::int64_t, PairHash> pair_counts;
  std::unordered_map<SymbolPair, std::set<std::size_t>, PairHash> where;
  const auto count_word = [&](std::size_t index, std::int64_t sign) {
    const auto& w = words[index];
    for (std::size_t k = 0; k + 1 < w.symbols.size(); ++k) {
      const SymbolPair pair{w.symbols[k], w.symbols[k + 1]};
      pair_counts[pair] += sign * w.count;
      if (sign > 0) {
        where[pair].insert(index);
      }
    }
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    count_word(i, +1);
  }
  while (static_cast<std::int64_t>(tokenizer.tokens_.size()) < options.max_vocab) {
    // The most frequent pair; ties go to the lexicographically smallest, so training is deterministic.
    const SymbolPair* best = nullptr;
    std::int64_t best_count = 0;
    for (const auto& [pair, count] : pair_counts) {
      if (count > best_count || (count == best_count && count > 0 && best != nullptr && pair < *best)) {
        best = &pair;
        best_count = count;
      }
    }
    if (best == nullptr || best_count < options.min_frequency) {
      break;
    }
    const SymbolPair pair = *best;
    const std::string symbol = merged(pair);
    const std::set<std::size_t> affected = where[pair];
    for (const auto index : affected) {
      count_word(index, -1);
      auto& symbols = words[index].symbols;
      std::vector<std::string> next;
      next.reserve(symbols.size());
      for (std::size_t k = 0; k < symbols.size(); ++k) {
        if (k + 1 < symbols.size() && symbols[k] == pair.first && symbols[k + 1] == pair.second) {
          next.push_back(symbol);
          ++k;
        } else {
          next.push_back(symbols[k]);
        }
      }
      symbols = std::move(next);
      count_word(index, +1);
    }
    pair_counts.erase(pair);
    where.erase(pair);
    add(symbol);
  }
  tokenizer.index_vocabulary("learnt WordPiece vocabulary");
  logger()->info("WordPiece vocabulary: {} pieces learnt from {} distinct words of {} training text(s)",
                 tokenizer.tokens_.size(), counts.size(), training_texts.size());
  return tokenizer;
}

Tokenizer Tokenizer::create(const TokenizerOptions& options, const std::vector<std::string>& training_texts) {
  if (options.kind == "wordpiece") {
    return options.vocab_file.empty() ? build_wordpiece(options, training_texts) : load_wordpiece(options);
  }
  return build_word(options, training_texts);
}

void Tokenizer::save_vocab(const std::filesystem::path& path) const {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    for (const auto& token : tokens_) {
      out << token << '\n';
    }
    out.flush();
    if (!out) {
      throw IoError(tmp.string(), "cannot write the vocabulary");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    throw IoError(path.string(), "cannot move the vocabulary into place: " + ec.message());
  }
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
  const bool wordpieces = options_.kind == "wordpiece";
  const auto full = [&] { return ids.size() - static_cast<std::size_t>(specials / 2) >= budget; };
  visit_words(text, options_, [&](const std::string& word) {
    if (full()) {
      return false;
    }
    if (wordpieces) {
      pieces.clear();
      wordpiece(word, pieces);
      for (auto id : pieces) {
        if (full()) {
          return false;
        }
        ids.push_back(id);
      }
    } else {
      ids.push_back(id_of(word));
    }
    return true;
  });
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
