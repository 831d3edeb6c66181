// Tokenizer training: word vocabularies from word counts and WordPiece vocabularies learned from the training texts
// (the merges of Hugging Face's WordPiece trainer), counted on every intra-op thread.
#include "finfuse/data/tokenizer.h"

#include "word_splitter.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_map>

namespace finfuse::data {
namespace {

using namespace detail;

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

  /// Adds the counts of `other`: keeping views of its words when it outlives this counter's use, else copies.
  void merge(const WordCounter& other, bool other_outlives = true) {
    for (const auto& slot : other.slots_) {
      if (slot.count > 0) {
        add(slot.word, other_outlives, slot.count);
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

// Word frequencies of the training texts, counted on every intra-op thread: a table per chunk, a chunk per thread.
// The tables view the texts.
std::vector<WordCounter> count_chunks(const TextViews& texts, const TokenizerOptions& options) {
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
  return counters;
}

// The same merged, as (word, count) pairs in no particular order: the words seen at least `min_count` times, and in
// `distinct` how many words there are in all.
std::vector<std::pair<std::string, std::int64_t>> count_words(const TextViews& texts, const TokenizerOptions& options,
                                                              std::int64_t min_count, std::size_t& distinct) {
  auto counters = count_chunks(texts, options);
  for (std::size_t k = 1; k < counters.size(); ++k) {
    counters[0].merge(counters[k]);
  }
  distinct = counters[0].size();
  return counters[0].counts(min_count);
}

// Whether two options split texts into the same words.
bool same_words(const TokenizerOptions& a, const TokenizerOptions& b) {
  return a.normalization == b.normalization && a.lowercase == b.lowercase && a.strip_accents == b.strip_accents &&
         a.split_punctuation == b.split_punctuation;
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

Tokenizer Tokenizer::build_word(const TokenizerOptions& options, const TextViews& training_texts) {
  std::size_t distinct = 0;
  auto counts = count_words(training_texts, options, options.min_frequency, distinct);
  return word_vocabulary(options, std::move(counts), distinct, static_cast<std::int64_t>(training_texts.size()));
}

Tokenizer Tokenizer::word_vocabulary(const TokenizerOptions& options,
                                     std::vector<std::pair<std::string, std::int64_t>> counts, std::size_t distinct,
                                     std::int64_t texts) {
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "word";
  auto& ranked = counts;
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
                 tokenizer.tokens_.size(), texts, distinct, options.min_frequency);
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
  // Word frequencies of the training texts, as this tokenizer splits them.
  std::size_t distinct = 0;
  auto counts = count_words(training_texts, options, 1, distinct);
  return learnt_wordpiece(options, std::move(counts), static_cast<std::int64_t>(training_texts.size()));
}

Tokenizer Tokenizer::learnt_wordpiece(const TokenizerOptions& options,
                                      std::vector<std::pair<std::string, std::int64_t>> counts, std::int64_t texts) {
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "wordpiece";
  tokenizer.options_.vocab_file.clear();
  auto& sorted_words = counts;
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
                 tokenizer.tokens_.size(), sorted_words.size(), texts);
  return tokenizer;
}

Tokenizer Tokenizer::create(const TokenizerOptions& options, const TextViews& training_texts) {
  if (options.kind == "wordpiece") {
    return options.vocab_file.empty() ? build_wordpiece(options, training_texts) : load_wordpiece(options);
  }
  return build_word(options, training_texts);
}

struct WordCounts::Table {
  WordCounter counter;
};

WordCounts::WordCounts(const TokenizerOptions& options) : options_(options), table_(std::make_unique<Table>()) {}
WordCounts::WordCounts(WordCounts&&) noexcept = default;
WordCounts& WordCounts::operator=(WordCounts&&) noexcept = default;
WordCounts::~WordCounts() = default;

void WordCounts::add(const TextViews& texts) {
  FINFUSE_CHECK(table_ != nullptr, "WordCounts::add on a moved-from object");
  const auto counters = count_chunks(texts, options_);
  for (const auto& counter : counters) {
    table_->counter.merge(counter, /*other_outlives=*/false);  // the texts go after the call
  }
  texts_ += static_cast<std::int64_t>(texts.size());
}

std::size_t WordCounts::distinct() const { return table_ != nullptr ? table_->counter.size() : 0; }

Tokenizer Tokenizer::create(const TokenizerOptions& options, const WordCounts& counts) {
  if (options.kind == "wordpiece" && !options.vocab_file.empty()) {
    return load_wordpiece(options);
  }
  FINFUSE_CHECK(counts.table_ != nullptr, "Tokenizer::create: the word counts were moved from");
  FINFUSE_CHECK(same_words(options, counts.options_),
                "Tokenizer::create: the word counts split texts otherwise than these tokenizer options (normalization, "
                "lowercase, strip_accents and split_punctuation must match)");
  const WordCounter& counter = counts.table_->counter;
  if (options.kind == "wordpiece") {
    return learnt_wordpiece(options, counter.counts(1), counts.texts_);
  }
  return word_vocabulary(options, counter.counts(options.min_frequency), counter.size(), counts.texts_);
}

}  // namespace finfuse::data
