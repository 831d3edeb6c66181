// Numeric tables: per-entity time series (fundamentals: symbol,date,...), global series (macro: date,...), each with
// an optional publication time for as-of joins, or static rows without time (a credit application: id,...,label).
// Numeric columns are stored as floats with NaN for missing values; categorical columns keep their raw strings
// (vocabularies are fitted later, on the training split only).
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/bad_records.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

struct NumericTableOptions {
#define FINFUSE_NUMERIC_TABLE_FIELDS(F)                                                                           \
  F(std::string, kind, "entity", ::finfuse::FieldRule::one_of({"entity", "global", "static"}),                    \
    "entity (symbol, date, ...: joined by the sample's entity as of the decision), global (date, ...: as of the "  \
    "decision) or static (id, ...: by the sample's entity id)")                                  \
  F(std::string, entity_column, "symbol", {},                                                                     \
    "the entity's column (static tables: id by default; empty names each row by its line)")                      \
  F(std::string, date_column, "date", {}, "the date's column")                                                    \
  F(std::string, available_column, "", {},                                                                        \
    "the instant a row became public (a date alone: available from the next midnight UTC); without it a row is "  \
    "available from midnight UTC after its date, plus publication_lag_days")                                     \
  F(std::int64_t, publication_lag_days, 0, ::finfuse::Range::non_negative(), "days after its date a row becomes public") \
  F(std::vector<std::string>, columns, (std::vector<std::string>{}), {},                                          \
    "numeric feature columns (empty: every column that is not the entity, date, availability, label or another " \
    "named column)")                                                                                              \
  F(std::vector<std::string>, categorical, (std::vector<std::string>{}), {}, "categorical columns")                \
  F(std::vector<std::string>, path_columns, (std::vector<std::string>{}), {},                                     \
    "columns of file paths (images), relative to the table's folder; never features")                             \
  F(std::vector<std::string>, text_columns, (std::vector<std::string>{}), {},                                     \
    "columns of free text for the text modality; never features")                                                 \
  F(std::string, label_column, "", {},                                                                            \
    "static tables: the target column, numeric or one of label_classes")                                         \
  F(std::vector<std::string>, label_classes, (std::vector<std::string>{}), {},                                    \
    "the label's class names (the class index is the position in the list)")                                     \
  F(std::vector<std::string>, missing_values, (std::vector<std::string>{"", "NA", "N/A", "null", "#N/A"}), {},    \
    "values that mark a missing observation")                                                                     \
  F(CsvOptions, csv, {}, {}, "the CSV dialect")                                                                   \
  F(ErrorMode, errors, ErrorMode::strict, {}, "malformed rows: stop at the first (strict) or skip and count them (lenient)")
  FINFUSE_FIELDS(NumericTableOptions, FINFUSE_NUMERIC_TABLE_FIELDS)
#undef FINFUSE_NUMERIC_TABLE_FIELDS

  /// Cross-field checks; a static table whose configuration names no entity_column uses "id".
  void validate(const Config& config);
};


class NumericTable {
 public:
  /// Reads a table. Non-numbers, NaN and infinities in numeric columns, bad dates, duplicate keys and dates out of
  /// order within an entity are DataErrors naming file, line and field; missing markers become NaN.
  static NumericTable load_csv(const std::filesystem::path& path, const NumericTableOptions& options);
  /// Reads the same table from a Parquet file (data/parquet.h: the same checks and messages; the CSV dialect
  /// options do not apply, a null is a missing value). A static table without an id column names its rows "row N".
  static NumericTable load_parquet(const std::filesystem::path& path, const NumericTableOptions& options);
  /// load_parquet() for a .parquet or .pq file, load_csv() for anything else.
  static NumericTable load(const std::filesystem::path& path, const NumericTableOptions& options);

  const std::string& kind() const { return kind_; }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<std::string>& categorical_columns() const { return categorical_columns_; }
  const std::vector<std::string>& path_columns() const { return path_columns_; }
  const std::vector<std::string>& text_columns() const { return text_columns_; }
  /// The label's class names (empty for a numeric label).
  const std::vector<std::string>& label_classes() const { return label_classes_; }
  /// Index of text column `name`, or nothing.
  std::optional<std::size_t> text_column_index(const std::string& name) const;
  /// The file the table was read from.
  const std::string& source() const { return source_; }
  bool has_label() const { return has_label_; }

  /// Entities in sorted order ("" is the single key of a global table).
  std::vector<std::string> entities() const;
  std::size_t rows() const { return row_entity_.size(); }

  /// Row index of the latest row of `entity` available at or before `t` (as-of join), or nothing.
  std::optional<std::size_t> row_as_of(const std::string& entity, Timestamp t) const;
  /// The latest observed (non-missing) value of `column` for `entity` available at or before `t`: the as-of row's
  /// value, or, when that is missing, the entity's most recent earlier value (forward fill). NaN when there is none.
  float last_observed(const std::string& entity, Timestamp t, std::size_t column) const;
  /// Row index of `entity`'s row dated exactly `date`, or nothing.
  std::optional<std::size_t> row_on(const std::string& entity, Date date) const;
  /// Index of numeric column `name`, or nothing.
  std::optional<std::size_t> column_index(const std::string& name) const;
  /// Row index of a static table's entity, or nothing.
  std::optional<std::size_t> row_of(const std::string& entity) const;

  /// Numeric value of row `row`, column `column` (NaN when missing).
  float value(std::size_t row, std::size_t column) const { return values_[row * columns_.size() + column]; }
  const std::string& category(std::size_t row, std::size_t column) const {
    return categories_[row * categorical_columns_.size() + column];
  }
  float label(std::size_t row) const { return labels_[row]; }
  /// The resolved path in path column `column` of `row` (empty when missing).
  const std::string& path(std::size_t row, std::size_t column) const {
    return paths_[row * path_columns_.size() + column];
  }
  /// The text in text column `column` of `row` (empty when missing).
  const std::string& text(std::size_t row, std::size_t column) const {
    return texts_[row * text_columns_.size() + column];
  }
  /// The line of the file that `row` came from.
  std::int64_t line(std::size_t row) const { return lines_[row]; }
  const std::string& entity(std::size_t row) const { return row_entity_[row]; }
  /// The row's date (time-indexed tables) and the instant it became available.
  Date date(std::size_t row) const { return dates_[row]; }
  Timestamp available_at(std::size_t row) const { return available_[row]; }

 private:
  template <class Reader>
  static NumericTable read(Reader& reader, const std::filesystem::path& path, const NumericTableOptions& options);

  std::string kind_;
  std::vector<std::string> columns_;
  std::vector<std::string> categorical_columns_;
  std::vector<std::string> path_columns_;
  std::vector<std::string> text_columns_;
  std::vector<std::string> label_classes_;
  std::vector<std::string> texts_;
  std::string source_;
  bool has_label_ = false;
  std::vector<std::string> paths_;
  std::vector<std::int64_t> lines_;
  std::vector<float> values_;
  std::vector<std::string> categories_;
  std::vector<float> labels_;
  std::vector<std::string> row_entity_;
  std::vector<Date> dates_;
  std::vector<Timestamp> available_;
  /// Per entity, row indices in order of availability (ties keep date order).
  std::map<std::string, std::vector<std::size_t>, std::less<>> index_;
  /// Per entity, row indices in date order.
  std::map<std::string, std::vector<std::size_t>, std::less<>> by_date_;
};

}  // namespace finfuse::data
