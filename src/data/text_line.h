#pragma once

// Parsing one line of a JSON Lines text file (TextCorpus::load_jsonl), exposed to the tests and fuzz targets that
// compare the fast path with the reference path. Not installed.

#include "finfuse/data/text_corpus.h"

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse::data::internal {

/// A text as parsed, holding its bytes.
struct ParsedText {
  Timestamp time;
  std::string text;
};

/// One line of a JSON Lines text file, parsed on its own.
struct ParsedTextLine {
  std::string entity;
  std::vector<ParsedText> texts;
  /// The line was read as Latin-1 and converted.
  bool converted = false;
  /// The DataError that makes the line unusable, if any.
  std::exception_ptr error;
};

/// The fast path (simdjson). Returns a result only for a valid line whose fields are what `options` ask for; any
/// other line (invalid JSON or UTF-8, a missing field, a repeated key, a line over 1 MiB) gives nullopt.
std::optional<ParsedTextLine> parse_text_line_fast(std::string_view raw, const TextJsonlOptions& options);

/// The reference path (nlohmann_json): accepts or refuses every line, with a DataError naming line and field.
/// `overlong` > 0 is the length of a line that exceeded `max_line_bytes` and was not read (`raw` is empty).
ParsedTextLine parse_text_line_reference(std::string raw, std::uint64_t overlong, std::int64_t line,
                                         const std::string& file, const TextJsonlOptions& options);

/// The fast path where it accepts, the reference path otherwise.
ParsedTextLine parse_text_line(std::string_view raw, std::uint64_t overlong, std::int64_t line, const std::string& file,
                               const TextJsonlOptions& options);

}  // namespace finfuse::data::internal
