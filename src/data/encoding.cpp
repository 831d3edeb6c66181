#include "finfuse/data/encoding.h"

#include "finfuse/core/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace finfuse::data {

EncodingPolicy parse_encoding_policy(std::string_view name) {
  if (name == "require_utf8") {
    return EncodingPolicy::require_utf8;
  }
  if (name == "latin1_fallback") {
    return EncodingPolicy::latin1_fallback;
  }
  throw Error(fmt::format("invalid encoding policy '{}': expected 'require_utf8' or 'latin1_fallback'", name));
}

std::string to_string(EncodingPolicy policy) {
  return policy == EncodingPolicy::require_utf8 ? "require_utf8" : "latin1_fallback";
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) {
        lo = 0xA0;  // no overlong forms
      } else if (c == 0xED) {
        hi = 0x9F;  // no UTF-16 surrogates
      }
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) {
        lo = 0x90;
      } else if (c == 0xF4) {
        hi = 0x8F;  // nothing above U+10FFFF
      }
    } else {
      return i;
    }
    if (i + length > n || s[i + 1] < lo || s[i + 1] > hi) {
      return i;
    }
    for (std::size_t k = 2; k < length; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
        return i;
      }
    }
    i += length;
  }
  return std::nullopt;
}

std::size_t utf8_complete_prefix(std::string_view text) {
  const std::size_t n = text.size();
  // A lead byte among the last three whose sequence needs more bytes than are left.
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) {
      continue;  // a continuation byte: its lead is further back
    }
    const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return length > back ? n - back : n;
  }
  return n;
}

std::string invalid_utf8_message(unsigned char byte, std::size_t column) {
  return fmt::format("byte 0x{:02X} at column {} is not valid UTF-8 (is the file Latin-1? set the encoding policy to "
                     "'latin1_fallback' to convert it)",
                     byte, column);
}

std::string latin1_to_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

bool has_utf8_bom(std::string_view text) { return text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF"; }

std::size_t byte_order_mark_length(std::string_view head, const std::string& source) {
  if (head.substr(0, 4) == std::string_view("\xFF\xFE\0\0", 4) || head.substr(0, 4) == std::string_view("\0\0\xFE\xFF", 4)) {
    throw DataError(source, 0, "", "the file is UTF-32 encoded (byte order mark); convert it to UTF-8");
  }
  if (head.substr(0, 2) == "\xFF\xFE" || head.substr(0, 2) == "\xFE\xFF") {
    throw DataError(source, 0, "", "the file is UTF-16 encoded (byte order mark); convert it to UTF-8");
  }
  return has_utf8_bom(head) ? 3 : 0;
}

std::string decode_text(std::string text, EncodingPolicy policy, const std::string& source, bool* converted) {
  if (converted != nullptr) {
    *converted = false;
  }
  text.erase(0, byte_order_mark_length(text, source));
  const auto invalid = find_invalid_utf8(text);
  if (!invalid) {
    return text;
  }
  if (policy == EncodingPolicy::latin1_fallback) {
    if (converted != nullptr) {
      *converted = true;
    }
    return latin1_to_utf8(text);
  }
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(*invalid), '\n');
  const auto line_start = text.rfind('\n', *invalid == 0 ? 0 : *invalid - 1);
  const std::size_t column = line_start == std::string::npos || *invalid == 0 ? *invalid + 1 : *invalid - line_start;
  throw DataError(source, line, "", invalid_utf8_message(static_cast<unsigned char>(text[*invalid]), column));
}

}  // namespace finfuse::data
