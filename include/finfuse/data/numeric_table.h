// Numeric tables: per-entity time series (fundamentals: symbol,date,...), global series (macro: date,...), each with
// an optional publication time for as-of joins, or static rows without time (a credit application: id,...,label).
// Numeric columns are stored as floats with NaN for missing values; categorical columns keep their raw strings
// (vocabularies are fitted later, on the training split only).
#pragma once

#include "finfuse/core/config.h"
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
  /// "entity" (entity + date), "global" (date only) or "static" (entity id, no time).
  std::string kind = "entity";
  /// Static tables default to "id"; an empty name there names each row by its line in the file ("line 17").
  std::string entity_column = "symbol";
  std::string date_column = "date";
  /// Optional column with the instant a row became public. A date-only value means "some time that day" and the row
  /// counts as available from the next midnight UTC. Without this column a row is available from midnight UTC after
  /// its date, plus publication_lag_days.
  std::string available_column;
  std::int64_t publication_lag_days = 0;
  /// Numeric feature columns; empty takes every column that is not the entity, date, availability, label or a
  /// categorical column.
  std::vector<std::string> columns;
  std::vector<std::string> categorical;
  /// Columns holding file paths (images); kept as text, never features. Relative paths are resolved against the
  /// table file's folder.
  std::vector<std::string> path_columns;
  /// Columns holding free text (a news sentence, a loan description) for the text modality; kept as text, never
  /// features.
  std::vector<std::string> text_columns;
  /// Static tables: the target column, optional; numeric, or one of `label_classes` when those are given (the class
  /// index is the position in the list, e.g. {"negative", "neutral", "positive"}).
  std::string label_column;
  std::vector<std::string> label_classes;
  std::vector<std::string> missing_values = {"", "NA", "N/A", "null", "#N/A"};
  CsvOptions csv;
  ErrorMode errors = ErrorMode::strict;

  static NumericTableOptions from_config(const Config& config);
  Json to_json() const;
};

class NumericTable {
 public:
  /// Reads a table. Non-numbers, NaN and infinities in numeric columns, bad dates, duplicate keys and dates out of
  /// order within an entity are DataErrors naming file, line and field; missing markers become NaN.
  static NumericTable load_csv(const std::filesystem::path& path, const NumericTableOptions& options);

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
