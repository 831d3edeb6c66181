// Text encodings of input files: UTF-8 is the working encoding; Latin-1 (ISO-8859-1) input, common in older
// financial corpora, is detected and either converted or rejected, by option.
#pragma once

#include "finfuse/core/options.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace finfuse::data {

/// What to do with input that is not valid UTF-8.
enum class EncodingPolicy {
  /// Reject it with a DataError naming the file and the first invalid byte.
  require_utf8,
  /// Treat it as Latin-1 and convert it to UTF-8 (every byte sequence is valid Latin-1).
  latin1_fallback,
};

/// "require_utf8" / "latin1_fallback"; throws finfuse::Error for anything else.
EncodingPolicy parse_encoding_policy(std::string_view name);
std::string to_string(EncodingPolicy policy);

/// Byte offset of the first byte that is not part of a well-formed UTF-8 sequence (overlong forms,
/// surrogates and code points above U+10FFFF are ill-formed), or nothing when `text` is valid UTF-8.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

/// The length of `text` without a multi-byte sequence cut off at its end (the first bytes of a character whose other
/// bytes come later): where a block of a file read a block at a time can be checked up to.
std::size_t utf8_complete_prefix(std::string_view text);

/// The message of a DataError for an invalid byte at 1-based `column` of its line under require_utf8.
std::string invalid_utf8_message(unsigned char byte, std::size_t column);

/// Converts Latin-1 bytes to UTF-8.
std::string latin1_to_utf8(std::string_view text);

/// Whether `text` starts with a UTF-8 byte order mark.
bool has_utf8_bom(std::string_view text);

/// The length of the UTF-8 byte order mark `head` (a file's first bytes, at least 4 when the file has them) starts
/// with: 3, or 0 without one. A UTF-16 or UTF-32 byte order mark is a DataError naming `source`.
std::size_t byte_order_mark_length(std::string_view head, const std::string& source);

/// Returns `text` as UTF-8 without a byte order mark: as is when valid, converted from Latin-1 under
/// latin1_fallback (`converted`, when given, is set), otherwise a DataError naming `source`, the line and the byte.
/// UTF-16 and UTF-32 byte order marks are always errors.
std::string decode_text(std::string text, EncodingPolicy policy, const std::string& source,
                        bool* converted = nullptr);

}  // namespace finfuse::data

namespace finfuse {

/// Options fields of type EncodingPolicy read and write "require_utf8" / "latin1_fallback".
template <>
struct FieldCodec<data::EncodingPolicy> : EnumFieldCodec<data::EncodingPolicy, FieldCodec<data::EncodingPolicy>> {
  static const std::vector<std::pair<data::EncodingPolicy, std::string>>& names() {
    static const std::vector<std::pair<data::EncodingPolicy, std::string>> table = {
        {data::EncodingPolicy::require_utf8, "require_utf8"}, {data::EncodingPolicy::latin1_fallback, "latin1_fallback"}};
    return table;
  }
};

}  // namespace finfuse
