// BERT's text normalisation, as Hugging Face's tokenizers library (BertNormalizer, then BertPreTokenizer) does it:
// control characters, U+0000 and U+FFFD removed, white space made a plain space, CJK ideographs and punctuation
// surrounded by spaces, accents stripped (NFD, then non-spacing marks dropped) and letters lower-cased, one code point
// at a time. The result, split at ASCII spaces and ASCII punctuation, gives the words that BERT's WordPiece sees.
#pragma once

#include <string>
#include <string_view>

namespace finfuse::data::detail {

struct BertNormalization {
  bool lowercase = true;
  bool strip_accents = true;
  /// Punctuation beyond ASCII surrounded by spaces (the word splitter splits ASCII punctuation).
  bool split_punctuation = true;
};

/// Whether `text` needs the Unicode path: bytes outside printable ASCII other than tab, newline and carriage return.
/// Printable ASCII text normalises to itself (lower-cased by the word splitter).
bool needs_bert_normalization(std::string_view text);

/// Writes the normalised UTF-8 text to `out` (replacing its contents). Invalid UTF-8 sequences are dropped like
/// U+FFFD, the replacement character.
void bert_normalize(std::string_view text, const BertNormalization& options, std::string& out);

}  // namespace finfuse::data::detail
