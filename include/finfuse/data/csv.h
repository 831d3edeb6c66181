// CSV reading (RFC 4180: quoted fields, doubled quotes, CRLF) with exact line numbers for error messages,
// header lookup by column name, BOM and encoding handling, and limits on file and field sizes.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/bad_records.h"
#include "finfuse/data/encoding.h"

#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse::data {

struct CsvOptions {
  char delimiter = ',';
  /// '\0' (configured as "") turns quoting off: quote characters are then ordinary text.
  char quote = '"';
  /// Whether the first record names the columns.
  bool header = true;
  /// The column names of a file without a header line (header false), e.g. {"sentence", "label"}.
  std::vector<std::string> column_names;
  EncodingPolicy encoding = EncodingPolicy::require_utf8;
  /// Files larger than this are refused before they are read.
  std::int64_t max_file_bytes = std::int64_t{8} << 30;
  /// A field longer than this is an error (a runaway quote usually).
  std::int64_t max_field_bytes = std::int64_t{16} << 20;

  /// Reads {"delimiter", "quote", "header", "column_names", "encoding", "max_file_bytes", "max_field_bytes"}.
  static CsvOptions from_config(const Config& config);
  Json to_json() const;
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
  /// Reads `path` whole (refusing files over max_file_bytes) and its header. IoError when it cannot be read,
  /// DataError for an encoding problem or an empty file when a header is expected.
  static CsvReader open(const std::filesystem::path& path, const CsvOptions& options = {});
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
  /// on with the next one.
  bool next(CsvRecord& record, BadRecordLog& bad);

  /// Throws a DataError when `record` does not have one field per header column.
  void expect_width(const CsvRecord& record) const;

 private:
  CsvReader(std::string text, std::string source, const CsvOptions& options);
  [[noreturn]] void fail_and_skip_line(std::int64_t line, const std::string& reason);

  std::string text_;
  std::string source_;
  CsvOptions options_;
  bool converted_ = false;
  std::size_t pos_ = 0;
  std::int64_t line_ = 1;
  std::vector<std::string> header_;
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
