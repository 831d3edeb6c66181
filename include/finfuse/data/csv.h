// CSV reading (RFC 4180: quoted fields, doubled quotes, CRLF) with exact line numbers for error messages,
// header lookup by column name, BOM and encoding handling, and limits on file and field sizes.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/bad_records.h"
#include "finfuse/data/encoding.h"

#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse {

/// Options fields of type char (CSV delimiters and quotes) read a one-character string; "\t" (a backslash and a t)
/// or "tab" for a tab; "" for none ('\0'). Declared before the options structs that have such fields.
template <>
struct FieldCodec<char> {
  static std::string type_name() { return "character"; }
  static char read(const Config& parent, const std::string& key);
  static Json write(const char& value) {
    return value == '\0' ? std::string() : value == '\t' ? std::string("\\t") : std::string(1, value);
  }
  static FieldRule rule() { return FieldRule(); }
};

}  // namespace finfuse

namespace finfuse::data {

struct CsvOptions {
#define FINFUSE_CSV_FIELDS(F)                                                                                     \
  F(char, delimiter, ',', {}, "the field separator (\"\\t\" or \"tab\" for a tab)")                                 \
  F(char, quote, '"', {}, "the quote character; \"\" turns quoting off (quote characters are then ordinary text)") \
  F(bool, header, true, {}, "whether the first record names the columns")                                         \
  F(std::vector<std::string>, column_names, (std::vector<std::string>{}), {},                                     \
    "the column names of a file without a header line (header false)")                                            \
  F(EncodingPolicy, encoding, EncodingPolicy::require_utf8, {}, "input that is not valid UTF-8: rejected, or read as Latin-1") \
  F(std::int64_t, max_file_bytes, std::int64_t{8} << 30, ::finfuse::Range::positive(),                            \
    "files larger than this are refused before they are read")                                                   \
  F(std::int64_t, max_field_bytes, std::int64_t{16} << 20, ::finfuse::Range::positive(),                          \
    "a longer field is an error (a runaway quote usually)")
  FINFUSE_FIELDS(CsvOptions, FINFUSE_CSV_FIELDS)
#undef FINFUSE_CSV_FIELDS

  void validate(const Config& config) const;
};


/// One record. Fields are views valid until the next call to CsvReader::next().
struct CsvRecord {
  /// 1-based line on which the record starts.
  std::int64_t line = 0;
  std::vector<std::string_view> fields;

  std::size_t size() const { return fields.size(); }
  std::string_view operator[](std::size_t i) const { return fields[i]; }

 private:
  friend class CsvReader;
  std::deque<std::string> unescaped_;
};

class CsvReader {
 public:
  /// How much of a file is read at a time by default.
  static constexpr std::size_t kBlockBytes = std::size_t{8} << 20;

  /// Opens `path` (refusing files over max_file_bytes) and reads its header. The file is read `block_bytes` at a
  /// time as records are asked for, so that memory holds a block and the record being read (a record longer than a
  /// block gets room for it), not the file. IoError when it cannot be read, DataError for an empty file when a header
  /// is expected, a UTF-16 or UTF-32 file, or (with require_utf8) a byte that is not valid UTF-8: thrown by the call
  /// that reaches it, naming its line and column, and by every call after. latin1_fallback reads the file once first
  /// to tell whether it is all valid UTF-8.
  static CsvReader open(const std::filesystem::path& path, const CsvOptions& options = {},
                        std::size_t block_bytes = kBlockBytes);
  /// Parses text already in memory; `source` names it in errors.
  static CsvReader from_string(std::string text, std::string source, const CsvOptions& options = {});

  const std::string& source() const { return source_; }
  const std::vector<std::string>& header() const { return header_; }
  /// Whether the input was converted from Latin-1.
  bool converted_from_latin1() const { return converted_; }

  /// Index of the column named `name`, or nothing.
  std::optional<std::size_t> find_column(std::string_view name) const;
  /// Index of the column named `name`; a DataError listing the columns (with a suggestion) when absent.
  std::size_t require_column(std::string_view name) const;

  /// Reads the next non-blank record; false at the end of the input. Malformed quoting is a DataError naming the
  /// line; the reader then continues after the offending line, so lenient callers can go on.
  bool next(CsvRecord& record);

  /// As next(), but a record with malformed quoting goes to `bad` (which throws it in strict mode) and reading goes
  /// on with the next one. An error that ends the reading (an invalid byte, a read error) is thrown.
  bool next(CsvRecord& record, BadRecordLog& bad);

  /// Throws a DataError when `record` does not have one field per header column.
  void expect_width(const CsvRecord& record) const;

 private:
  /// What parsing the buffered text gave: a record, the end of the input, or the need for more of the file.
  enum class Step { record, end, more };

  CsvReader(std::string source, const CsvOptions& options);
  void read_header();
  Step parse(CsvRecord& record);
  /// Appends the file's next block to the buffer after dropping what was read; false at the end of the file.
  bool read_block();
  [[noreturn]] void fail_and_skip_line(std::int64_t line, const std::string& reason);
  [[noreturn]] void fail_encoding(std::size_t offset);

  /// The text not yet read (and the last record's): the whole input for from_string(), a window of the file otherwise.
  std::string text_;
  std::string source_;
  CsvOptions options_;
  bool converted_ = false;
  std::size_t pos_ = 0;
  std::int64_t line_ = 1;
  std::vector<std::string> header_;

  // Reading a file a block at a time.
  std::ifstream in_;
  std::size_t block_ = 0;
  /// Whether the buffer holds the rest of the input.
  bool eof_ = true;
  /// The file is read as Latin-1 (not all of it is valid UTF-8, with latin1_fallback).
  bool latin1_ = false;
  /// The first bytes of a character cut off at the end of the last block, checked with the next one.
  std::string pending_;
  /// Bytes from the start of the current line to the buffer's first byte (for error columns).
  std::size_t line_offset_ = 0;
  /// The error that ended the reading, thrown again by every later call.
  std::exception_ptr failed_;
};

/// A field value for an error message: quoted, and cut after 40 characters.
std::string quoted_value(std::string_view value);

/// Removes leading and trailing spaces and tabs.
std::string_view trim(std::string_view text);

/// Parses a decimal number (surrounding spaces allowed; "nan", "inf" parse to NaN and infinity so the caller can
/// name them in its error). Nothing for an empty field or anything that is not a number.
std::optional<double> parse_number(std::string_view text);

/// Parses a decimal integer (surrounding spaces allowed). Nothing for anything else or out of range.
std::optional<std::int64_t> parse_integer(std::string_view text);

}  // namespace finfuse::data
