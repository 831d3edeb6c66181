#include "finfuse/data/tokenizer.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <set>
#include <unordered_map>

namespace finfuse::data {
namespace {

constexpr const char* kPad = "[PAD]";
constexpr const char* kUnk = "[UNK]";
constexpr const char* kCls = "[CLS]";
constexpr const char* kSep = "[SEP]";
// BERT leaves words longer than this as [UNK] rather than splitting them.
constexpr std::size_t kMaxWordPieceChars = 100;

// Character classes of the splitter, one table lookup per byte.
enum : std::uint8_t { kWordChar = 0, kSpace = 1, kPunctuation = 2, kUpper = 4 };

constexpr std::array<std::uint8_t, 256> character_classes() {
  std::array<std::uint8_t, 256> table{};
  for (const unsigned char c : {' ', '\t', '\n', '\r', '\f', '\v'}) {
    table[c] = kSpace;
  }
  for (unsigned c = 33; c <= 126; ++c) {
    if (c <= 47 || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || c >= 123) {
      table[c] = kPunctuation;
    }
  }
  for (unsigned c = 'A'; c <= 'Z'; ++c) {
    table[c] = kUpper;
  }
  return table;
}

constexpr std::array<std::uint8_t, 256> kClasses = character_classes();

// Calls visit(word) for every word of `text` as the tokenizer splits it (whitespace, optionally ASCII punctuation as
// words of their own, optionally lowercased). The word is a view into `text`, or into a buffer reused between calls
// when lowercasing changed it. Stops when visit returns false.
template <typename Visit>
void visit_words(std::string_view text, const TokenizerOptions& options, Visit&& visit) {
  const std::uint8_t breaks = options.split_punctuation ? (kSpace | kPunctuation) : kSpace;
  std::string lowered;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const auto kind = kClasses[static_cast<unsigned char>(*p)];
    if ((kind & kSpace) != 0) {
      ++p;
      continue;
    }
    if ((kind & breaks) != 0) {  // punctuation split off: a word of one character
      if (!visit(std::string_view(p, 1))) {
        return;
      }
      ++p;
      continue;
    }
    const char* const first = p;
    std::uint8_t seen = 0;
    while (p < end && (kClasses[static_cast<unsigned char>(*p)] & breaks) == 0) {
      seen |= kClasses[static_cast<unsigned char>(*p)];
      ++p;
    }
    std::string_view word(first, static_cast<std::size_t>(p - first));
    if (options.lowercase && (seen & kUpper) != 0) {
      lowered.assign(word);
      for (auto& c : lowered) {
        if (c >= 'A' && c <= 'Z') {
          c = static_cast<char>(c - 'A' + 'a');
        }
      }
      word = lowered;
    }
    if (!visit(word)) {
      return;
    }
  }
}

std::uint64_t hash_word(std::string_view word) {
  // A multiply-xorshift over 8-byte blocks: words are short, and std::hash's byte loop dominated the counting.
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ word.size();
  const char* p = word.data();
  std::size_t n = word.size();
  while (n >= 8) {
    std::uint64_t block;
    std::memcpy(&block, p, 8);
    h = (h ^ block) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail) * 0x94D049BB133111EBULL;
  return h ^ (h >> 29);
}

// Word frequencies: an open-addressing table keyed by views into the counted texts; words that lowercasing changed
// are copied into the counter's own storage.
class WordCounter {
 public:
  void add(std::string_view word, bool view_is_stable, std::int64_t count = 1) {
    if ((size_ + 1) * 2 > slots_.size()) {
      grow();
    }
    const auto h = hash_word(word);
    for (auto i = static_cast<std::size_t>(h) & mask_;; i = (i + 1) & mask_) {
      auto& slot = slots_[i];
      if (slot.count == 0) {
        if (!view_is_stable) {
          owned_.emplace_back(word);
          word = owned_.back();
        }
        slot = Slot{word, h, count};
        ++size_;
        return;
      }
      if (slot.hash == h && slot.word == word) {
        slot.count += count;
        return;
      }
    }
  }

  std::size_t size() const { return size_; }

  void merge(const WordCounter& other) {
    for (const auto& slot : other.slots_) {
      if (slot.count > 0) {
        add(slot.word, true, slot.count);  // `other` outlives this counter's use
      }
    }
  }

  /// The words seen at least `min_count` times, with their counts.
  std::vector<std::pair<std::string, std::int64_t>> counts(std::int64_t min_count) const {
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& slot : slots_) {
      if (slot.count >= std::max<std::int64_t>(1, min_count)) {
        out.emplace_back(std::string(slot.word), slot.count);
      }
    }
    return out;
  }

 private:
  struct Slot {
    std::string_view word;
    std::uint64_t hash = 0;
    std::int64_t count = 0;
  };

  void grow() {
    std::vector<Slot> old(std::max<std::size_t>(1024, slots_.size() * 2));
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const auto& slot : old) {
      if (slot.count > 0) {
        auto i = static_cast<std::size_t>(slot.hash) & mask_;
        while (slots_[i].count != 0) {
          i = (i + 1) & mask_;
        }
        slots_[i] = slot;
      }
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::deque<std::string> owned_;  // element addresses are stable as it grows
};

// Word frequencies of the training texts, counted on every intra-op thread (a table per chunk, merged), as (word,
// count) pairs in no particular order: the words seen at least `min_count` times, and in `distinct` how many words
// there are in all.
std::vector<std::pair<std::string, std::int64_t>> count_words(const TextViews& texts, const TokenizerOptions& options,
                                                              std::int64_t min_count, std::size_t& distinct) {
  // One counter per chunk of the texts, a chunk per intra-op thread.
  const auto size = static_cast<std::int64_t>(texts.size());
  const auto chunks = std::max<std::int64_t>(1, std::min<std::int64_t>(at::get_num_threads(), (size + 1023) / 1024));
  std::vector<WordCounter> counters(static_cast<std::size_t>(chunks));
  at::parallel_for(0, chunks, 1, [&](std::int64_t first_chunk, std::int64_t last_chunk) {
    for (auto c = first_chunk; c < last_chunk; ++c) {
      auto& counter = counters[static_cast<std::size_t>(c)];
      for (auto t = c * size / chunks; t < (c + 1) * size / chunks; ++t) {
        const auto text = texts[static_cast<std::size_t>(t)];
        visit_words(text, options, [&](std::string_view word) {
          // A view into the text is stable; a lowercased word lives in visit_words' buffer.
          counter.add(word, word.data() >= text.data() && word.data() < text.data() + text.size());
          return true;
        });
      }
    }
  });
  for (std::size_t k = 1; k < counters.size(); ++k) {
    counters[0].merge(counters[k]);
  }
  distinct = counters[0].size();
  return counters[0].counts(min_count);
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
  visit_words(text, options_, [&](std::string_view word) {
    words.emplace_back(word);
    return true;
  });
  return words;
}

Tokenizer Tokenizer::build_word(const TokenizerOptions& options, const TextViews& training_texts) {
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "word";
  std::size_t distinct = 0;
  auto ranked = count_words(training_texts, tokenizer.options_, options.min_frequency, distinct);
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
                 tokenizer.tokens_.size(), training_texts.size(), distinct, options.min_frequency);
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

Tokenizer Tokenizer::build_wordpiece(const TokenizerOptions& options, const TextViews& training_texts) {
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "wordpiece";
  tokenizer.options_.vocab_file.clear();

  // Word frequencies of the training texts, as this tokenizer splits them.
  std::size_t distinct = 0;
  auto sorted_words = count_words(training_texts, tokenizer.options_, 1, distinct);
  FINFUSE_CHECK(!sorted_words.empty(), "cannot learn a WordPiece vocabulary without training texts");
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
                 tokenizer.tokens_.size(), sorted_words.size(), training_texts.size());
  return tokenizer;
}

Tokenizer Tokenizer::create(const TokenizerOptions& options, const TextViews& training_texts) {
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
  FINFUSE_CHECK(tokens_.size() < static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                "a vocabulary of ", tokens_.size(), " tokens is too large");
  std::size_t capacity = 16;
  while (capacity < tokens_.size() * 2) {
    capacity *= 2;
  }
  slots_.assign(capacity, Slot{});
  const auto mask = capacity - 1;
  for (std::size_t id = 0; id < tokens_.size(); ++id) {
    const auto h = hash_word(tokens_[id]);
    auto i = static_cast<std::size_t>(h) & mask;
    while (slots_[i].id >= 0) {
      i = (i + 1) & mask;
    }
    slots_[i] = Slot{static_cast<std::int32_t>(id), static_cast<std::uint32_t>(h >> 32)};
  }
  const auto require = [&](const char* token) {
    const auto id = find(token);
    if (id < 0) {
      throw DataError(where, 0, "", fmt::format("the vocabulary has no {} token", token));
    }
    return id;
  };
  pad_id_ = require(kPad);
  unk_id_ = require(kUnk);
  if (options_.add_special_tokens) {
    cls_id_ = require(kCls);
    sep_id_ = require(kSep);
  }
}

std::int64_t Tokenizer::find(std::string_view token) const {
  if (slots_.empty()) {
    return -1;
  }
  const auto mask = slots_.size() - 1;
  const auto h = hash_word(token);
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  for (auto i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
    const auto& slot = slots_[i];
    if (slot.id < 0) {
      return -1;
    }
    if (slot.tag == tag && std::string_view(tokens_[static_cast<std::size_t>(slot.id)]) == token) {
      return slot.id;
    }
  }
}

std::int64_t Tokenizer::id_of(std::string_view token) const {
  const auto id = find(token);
  return id < 0 ? unk_id_ : id;
}

std::size_t Tokenizer::wordpiece(std::string_view word, std::int32_t* out, std::size_t budget) const {
  if (budget == 0) {
    return 0;
  }
  std::array<std::size_t, kMaxWordPieceChars + 1> offsets;  // byte offsets of the code points, plus the size
  std::size_t chars = 0;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) {
      if (chars == kMaxWordPieceChars) {
        out[0] = static_cast<std::int32_t>(unk_id_);  // BERT leaves very long words unknown
        return 1;
      }
      offsets[chars++] = i;
    }
  }
  offsets[chars] = word.size();
  std::array<std::int32_t, kMaxWordPieceChars> pieces;
  std::size_t count = 0;
  std::size_t start = 0;
  std::string candidate;
  while (start < chars) {
    std::size_t end = chars;
    std::int64_t found = -1;
    while (end > start) {
      candidate = start > 0 ? "##" : "";
      candidate.append(word.substr(offsets[start], offsets[end] - offsets[start]));
      found = find(candidate);
      if (found >= 0) {
        break;
      }
      --end;
    }
    if (found < 0) {
      out[0] = static_cast<std::int32_t>(unk_id_);  // one unknown piece makes the whole word unknown, as in BERT
      return 1;
    }
    pieces[count++] = static_cast<std::int32_t>(found);
    start = end;
  }
  count = std::min(count, budget);
  std::copy_n(pieces.begin(), count, out);
  return count;
}

std::int64_t Tokenizer::encode_into(std::string_view text, std::int32_t* out) const {
  const bool specials = options_.add_special_tokens;
  const auto budget = static_cast<std::size_t>(options_.max_length - (specials ? 2 : 0));
  std::size_t n = 0;
  if (specials) {
    *out++ = static_cast<std::int32_t>(cls_id_);
  }
  const bool wordpieces = options_.kind == "wordpiece";
  visit_words(text, options_, [&](std::string_view word) {
    if (n >= budget) {
      return false;
    }
    if (wordpieces) {
      n += wordpiece(word, out + n, budget - n);
    } else {
      out[n++] = static_cast<std::int32_t>(id_of(word));
    }
    return true;
  });
  if (specials) {
    out[n] = static_cast<std::int32_t>(sep_id_);
  }
  return static_cast<std::int64_t>(n) + (specials ? 2 : 0);
}

std::vector<std::int64_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(options_.max_length));
  ids.resize(static_cast<std::size_t>(encode_into(text, ids.data())));
  return std::vector<std::int64_t>(ids.begin(), ids.end());
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
