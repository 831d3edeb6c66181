// BERT's normalisation with ICU's character properties and NFD; see bert_normalizer.h. Each rule is that of Hugging
// Face's tokenizers (normalizers/bert.rs, pre_tokenizers/bert.rs), tested against it in tests/data/
// bert_tokenizer_parity_test.cpp.
#include "bert_normalizer.h"

#include "finfuse/core/error.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <fmt/format.h>

#include <cstdint>
#include <vector>

namespace finfuse::data::detail {
namespace {

bool is_bert_whitespace(UChar32 c) { return c == '\t' || c == '\n' || c == '\r' || u_isUWhiteSpace(c) != 0; }

// The "other" categories: Cc, Cf, Cn, Co, Cs (tab, newline and carriage return count as white space instead).
bool is_bert_control(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') {
    return false;
  }
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_UNASSIGNED:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return true;
    default:
      return false;
  }
}

// The CJK Unified Ideographs blocks and their extensions and compatibility forms (not Japanese kana or Korean
// Hangul, which are written with spaces).
bool is_cjk(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_unicode_punctuation(UChar32 c) {
  switch (u_charType(c)) {
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

void append_utf8(std::string& out, UChar32 c) {
  char buffer[U8_MAX_LENGTH];
  std::int32_t length = 0;
  UBool error = false;
  U8_APPEND(buffer, length, U8_MAX_LENGTH, c, error);
  if (!error) {
    out.append(buffer, static_cast<std::size_t>(length));
  }
}

const UNormalizer2* nfd() {
  static const UNormalizer2* const instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* n = unorm2_getNFDInstance(&status);
    if (U_FAILURE(status) || n == nullptr) {
      throw Error(fmt::format("ICU's NFD normaliser is unavailable: {}", u_errorName(status)));
    }
    return n;
  }();
  return instance;
}

}  // namespace

bool needs_bert_normalization(std::string_view text) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x7F || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
      return true;
    }
  }
  return false;
}

void bert_normalize(std::string_view text, const BertNormalization& options, std::string& out) {
  // 1. Clean (control characters, NUL and U+FFFD out; white space to ' ') and space out CJK ideographs, in UTF-16 for
  // the normaliser.
  std::vector<UChar> cleaned;
  cleaned.reserve(text.size() + 8);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto length = static_cast<std::int32_t>(text.size());
  const auto push = [&](UChar32 c) {
    if (U_IS_BMP(c)) {
      cleaned.push_back(static_cast<UChar>(c));
    } else {
      cleaned.push_back(U16_LEAD(c));
      cleaned.push_back(U16_TRAIL(c));
    }
  };
  for (std::int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U8_NEXT(bytes, i, length, c);
    if (c < 0 || c == 0 || c == 0xFFFD || is_bert_control(c)) {
      continue;
    }
    if (is_bert_whitespace(c)) {
      push(' ');
    } else if (is_cjk(c)) {
      push(' ');
      push(c);
      push(' ');
    } else {
      push(c);
    }
  }
  // 2. Accents stripped: canonical decomposition, then the non-spacing marks dropped.
  std::vector<UChar> decomposed;
  const std::vector<UChar>* source = &cleaned;
  if (options.strip_accents && !cleaned.empty()) {
    UErrorCode status = U_ZERO_ERROR;
    const auto size = static_cast<std::int32_t>(cleaned.size());
    decomposed.resize(cleaned.size() * 3 + 8);
    auto written = unorm2_normalize(nfd(), cleaned.data(), size, decomposed.data(),
                                    static_cast<std::int32_t>(decomposed.size()), &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      status = U_ZERO_ERROR;
      decomposed.resize(static_cast<std::size_t>(written));
      written = unorm2_normalize(nfd(), cleaned.data(), size, decomposed.data(), written, &status);
    }
    if (U_FAILURE(status)) {
      throw Error(fmt::format("ICU's NFD normalisation failed: {}", u_errorName(status)));
    }
    decomposed.resize(static_cast<std::size_t>(written));
    source = &decomposed;
  }
  // 3. Marks dropped, letters lower-cased one code point at a time (without context: final sigma stays σ), and
  // punctuation beyond ASCII spaced out (the word splitter splits ASCII punctuation itself).
  out.clear();
  out.reserve(source->size() + 8);
  const auto* units = source->data();
  const auto count = static_cast<std::int32_t>(source->size());
  for (std::int32_t i = 0; i < count;) {
    UChar32 c = 0;
    U16_NEXT(units, i, count, c);
    if (options.strip_accents && u_charType(c) == U_NON_SPACING_MARK) {
      continue;
    }
    if (options.lowercase) {
      if (c == 0x130) {  // the one unconditional multi-character lower-case mapping: İ -> i + combining dot above
        out += 'i';
        append_utf8(out, 0x307);
        continue;
      }
      c = u_tolower(c);
    }
    if (options.split_punctuation && c >= 0x80 && is_unicode_punctuation(c)) {
      out += ' ';
      append_utf8(out, c);
      out += ' ';
    } else {
      append_utf8(out, c);
    }
  }
}

}  // namespace finfuse::data::detail
