// What the tokenizer's training and encoding share: the special tokens, the normalising word splitter and the word
// hash.
#pragma once

#include "finfuse/data/tokenizer.h"

#include "bert_normalizer.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace finfuse::data::detail {

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

// Calls visit(word) for every word of already normalised `text` (whitespace, optionally ASCII punctuation as words of
// their own, optionally ASCII-lowercased). The word is a view into `text`, or into a buffer reused between calls when
// lowercasing changed it. Stops when visit returns false.
template <typename Visit>
void split_words(std::string_view text, const TokenizerOptions& options, Visit&& visit) {
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

// Calls visit(word) for every word of `text` as the tokenizer splits it: with "bert" normalisation, text beyond
// printable ASCII is normalised first (bert_normalizer.h); printable ASCII normalises to itself.
template <typename Visit>
void visit_words(std::string_view text, const TokenizerOptions& options, Visit&& visit) {
  if (options.normalization == "bert" && needs_bert_normalization(text)) {
    std::string normalized;
    bert_normalize(text,
                   BertNormalization{options.lowercase, options.strip_accents.value_or(options.lowercase),
                                     options.split_punctuation},
                   normalized);
    split_words(normalized, options, visit);
    return;
  }
  split_words(text, options, visit);
}

inline std::uint64_t hash_word(std::string_view word) {
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

}  // namespace finfuse::data::detail
