// Parquet files (Apache Arrow C++, an optional dependency) read record by record as text fields, so that the readers
// of tabular inputs (price panels, numeric tables, texts) take a Parquet file with the same checks, point-in-time
// rules and error messages as its CSV counterpart.
#pragma once

#include "finfuse/data/bad_records.h"
#include "finfuse/data/csv.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse::data {

/// Whether this build of finfuse reads Parquet (it was built against Apache Arrow C++ with Parquet).
bool parquet_supported();

/// Whether `path` names a Parquet file by its extension (.parquet or .pq, any case).
bool is_parquet_path(const std::filesystem::path& path);

/// Reads a Parquet file in record batches (memory bounded by one batch, not the file) and presents each row as the
/// text fields a CSV record would hold: strings as they are, integers and floating-point numbers in their shortest
/// exact decimal form (NaN as "nan", which the readers refuse as they do in a CSV), booleans as true/false, dates as
/// YYYY-MM-DD, timestamps as ISO 8601 in UTC (a timestamp without time zone at midnight, as pandas writes a date, as
/// the date alone), dictionary-encoded columns (pandas categoricals) by their values, and nulls as empty fields
/// (a missing value by default). Errors name the file, the row (1-based, the header not counted) and the column.
class ParquetReader {
 public:
  /// Opens `path` and reads its schema. IoError when it cannot be opened; DataError when it is not a readable
  /// Parquet file (a truncated file among them) or a column has a type no reader takes (lists, structs, binary);
  /// finfuse::Error when this build has no Parquet support.
  static ParquetReader open(const std::filesystem::path& path);

  ParquetReader(ParquetReader&&) noexcept;
  ParquetReader& operator=(ParquetReader&&) noexcept;
  ~ParquetReader();

  const std::string& source() const;
  const std::vector<std::string>& header() const;
  /// Number of rows the file holds (from its footer).
  std::int64_t rows() const;

  /// Index of the column named `name`, or nothing.
  std::optional<std::size_t> find_column(std::string_view name) const;
  /// Index of the column named `name`; a DataError listing the columns (with a suggestion) when absent.
  std::size_t require_column(std::string_view name) const;

  /// Reads the next row into `record` (fields valid until the next call; record.line is the 1-based row); false at
  /// the end. A batch that cannot be decoded (a damaged page) is a DataError naming the file.
  bool next(CsvRecord& record);
  bool next(CsvRecord& record, BadRecordLog& bad);
  /// Every row has one field per column: nothing to check (the CSV reader's counterpart checks the width).
  void expect_width(const CsvRecord& /*record*/) const {}

 private:
  struct Impl;
  explicit ParquetReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// What a record's number counts in messages: lines of a CSV file, rows of a Parquet file.
inline const char* record_unit(const CsvReader& /*reader*/) { return "line"; }
inline const char* record_unit(const ParquetReader& /*reader*/) { return "row"; }

}  // namespace finfuse::data
