#include "finfuse/data/numeric_table.h"

#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/parquet.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace finfuse::data {
NumericTable NumericTable::load(const std::filesystem::path& path, const NumericTableOptions& options) {
  return is_parquet_path(path) ? load_parquet(path, options) : load_csv(path, options);
}

NumericTable NumericTable::load_csv(const std::filesystem::path& path, const NumericTableOptions& options) {
  CsvReader reader = CsvReader::open(path, options.csv);
  return read(reader, path, options);
}

NumericTable NumericTable::load_parquet(const std::filesystem::path& path, const NumericTableOptions& options) {
  ParquetReader reader = ParquetReader::open(path);
  return read(reader, path, options);
}

template <class Reader>
NumericTable NumericTable::read(Reader& reader, const std::filesystem::path& path, const NumericTableOptions& options) {
  const std::string& file = reader.source();
  const char* const unit = record_unit(reader);
  const bool has_entity = options.kind != "global";
  const bool has_time = options.kind != "static";

  // Column positions; `absent` where the table has no such column. (Plain indices rather than std::optional keep
  // GCC 12's -Wmaybe-uninitialized quiet in the loop below.)
  constexpr std::size_t absent = std::numeric_limits<std::size_t>::max();
  // A static table without an id column names its rows by their line in the file.
  const bool row_ids = options.kind == "static" && options.entity_column.empty();
  const std::size_t entity_column = has_entity && !row_ids ? reader.require_column(options.entity_column) : absent;
  const std::size_t date_column = has_time ? reader.require_column(options.date_column) : absent;
  const std::size_t available_column =
      options.available_column.empty() ? absent : reader.require_column(options.available_column);
  const std::size_t label_column = options.label_column.empty() ? absent : reader.require_column(options.label_column);

  NumericTable table;
  table.kind_ = options.kind;
  table.has_label_ = label_column != absent;
  table.categorical_columns_ = options.categorical;
  table.path_columns_ = options.path_columns;
  table.text_columns_ = options.text_columns;
  table.label_classes_ = options.label_classes;
  table.source_ = file;
  std::vector<std::size_t> categorical_index;
  for (const auto& name : options.categorical) {
    categorical_index.push_back(reader.require_column(name));
  }
  std::vector<std::size_t> path_index;
  for (const auto& name : options.path_columns) {
    path_index.push_back(reader.require_column(name));
  }
  std::vector<std::size_t> text_index;
  for (const auto& name : options.text_columns) {
    text_index.push_back(reader.require_column(name));
  }
  const std::filesystem::path folder = path.parent_path();
  std::vector<std::size_t> numeric_index;
  if (!options.columns.empty()) {
    table.columns_ = options.columns;
    for (const auto& name : options.columns) {
      if (std::find(options.categorical.begin(), options.categorical.end(), name) != options.categorical.end()) {
        throw DataError(file, 1, name, "is listed both as a numeric and as a categorical column");
      }
      numeric_index.push_back(reader.require_column(name));
    }
  } else {
    std::set<std::string> reserved(options.categorical.begin(), options.categorical.end());
    reserved.insert(options.path_columns.begin(), options.path_columns.end());
    reserved.insert(options.text_columns.begin(), options.text_columns.end());
    for (const auto* name : {&options.entity_column, &options.date_column, &options.available_column, &options.label_column}) {
      reserved.insert(*name);
    }
    for (std::size_t i = 0; i < reader.header().size(); ++i) {
      if (reserved.count(reader.header()[i]) == 0 || (!has_entity && reader.header()[i] == options.entity_column)) {
        table.columns_.push_back(reader.header()[i]);
        numeric_index.push_back(i);
      }
    }
  }
  if (table.columns_.empty() && table.categorical_columns_.empty() && table.text_columns_.empty()) {
    throw DataError(file, 1, "", "the table has no feature columns");
  }
  const std::set<std::string, std::less<>> missing(options.missing_values.begin(), options.missing_values.end());
  const float nan = std::numeric_limits<float>::quiet_NaN();

  BadRecordLog bad(options.errors);
  std::map<std::string, std::int64_t, std::less<>> last_line;
  CsvRecord record;
  while (reader.next(record, bad)) {
    try {
      reader.expect_width(record);
      std::string entity;
      if (row_ids) {
        entity = fmt::format("{} {}", unit, record.line);
      } else if (entity_column != absent) {
        entity = std::string(trim(record[entity_column]));
        if (entity.empty()) {
          throw DataError(file, record.line, options.entity_column, "the entity is empty");
        }
      }
      Date date;
      Timestamp available;
      if (has_time) {
        const std::string_view text = trim(record[date_column]);
        const auto parsed = parse_date(text);
        if (!parsed) {
          throw DataError(file, record.line, options.date_column,
                          fmt::format("expected a date YYYY-MM-DD, got {}", quoted_value(text)));
        }
        date = *parsed;
        available = Timestamp::at(date + 1 + static_cast<std::int32_t>(options.publication_lag_days));
        if (available_column != absent) {
          const std::string_view when = trim(record[available_column]);
          if (const auto instant = parse_publication_instant(when)) {
            available = *instant;
          } else {
            throw DataError(file, record.line, options.available_column,
                            fmt::format("expected a date or timestamp, got {}", quoted_value(when)));
          }
          if (available < Timestamp::at(date)) {
            throw DataError(file, record.line, options.available_column,
                            fmt::format("the row is published ({}) before its own date {}", available.to_string(),
                                        date.to_string()));
          }
        }
      }
      // Order and uniqueness per entity.
      auto& rows = table.index_[entity];
      if (!rows.empty()) {
        const std::size_t previous = rows.back();
        if (!has_time) {
          throw DataError(file, record.line, options.entity_column,
                          fmt::format("duplicate id '{}' (first at {} {})", entity, unit, last_line[entity]));
        }
        if (table.dates_[previous] >= date) {
          throw DataError(file, record.line, options.date_column,
                          table.dates_[previous] == date
                              ? fmt::format("duplicate date {}{} (first at {} {})", date.to_string(),
                                            entity.empty() ? std::string() : " for " + entity, unit,
                                            last_line[entity])
                              : fmt::format("date {} comes after {} ({} {}); rows must be in increasing date order",
                                            date.to_string(), table.dates_[previous].to_string(), unit,
                                            last_line[entity]));
        }
      }
      std::vector<float> values(numeric_index.size(), nan);
      for (std::size_t c = 0; c < numeric_index.size(); ++c) {
        const std::string_view text = trim(record[numeric_index[c]]);
        if (missing.count(text) != 0) {
          continue;
        }
        const auto value = parse_number(text);
        if (!value) {
          throw DataError(file, record.line, table.columns_[c], fmt::format("expected a number, got {}", quoted_value(text)));
        }
        if (!std::isfinite(*value) || std::abs(*value) > std::numeric_limits<float>::max()) {
          throw DataError(file, record.line, table.columns_[c],
                          fmt::format("expected a finite number, got {}", quoted_value(text)));
        }
        values[c] = static_cast<float>(*value);
      }
      float label = nan;
      if (label_column != absent && !options.label_classes.empty()) {
        const std::string_view text = trim(record[label_column]);
        const auto it = std::find(options.label_classes.begin(), options.label_classes.end(), text);
        if (it == options.label_classes.end()) {
          throw DataError(file, record.line, options.label_column,
                          fmt::format("expected one of the classes {}, got {}", quoted_list(options.label_classes),
                                      quoted_value(text)));
        }
        label = static_cast<float>(it - options.label_classes.begin());
      } else if (label_column != absent) {
        const std::string_view text = trim(record[label_column]);
        const auto value = parse_number(text);
        if (!value || !std::isfinite(*value)) {
          throw DataError(file, record.line, options.label_column,
                          fmt::format("expected a finite number as the label, got {}", quoted_value(text)));
        }
        label = static_cast<float>(*value);
      }
      rows.push_back(table.row_entity_.size());
      table.row_entity_.push_back(entity);
      table.dates_.push_back(date);
      table.available_.push_back(available);
      table.values_.insert(table.values_.end(), values.begin(), values.end());
      for (std::size_t c = 0; c < categorical_index.size(); ++c) {
        const std::string_view text = trim(record[categorical_index[c]]);
        table.categories_.emplace_back(missing.count(text) != 0 ? std::string_view() : text);
      }
      table.labels_.push_back(label);
      for (const auto column : text_index) {
        const std::string_view text = trim(record[column]);
        table.texts_.emplace_back(missing.count(text) != 0 ? std::string_view() : text);
      }
      for (const auto column : path_index) {
        const std::string_view text = trim(record[column]);
        if (missing.count(text) != 0) {
          table.paths_.emplace_back();
        } else {
          std::filesystem::path p(std::string{text});
          table.paths_.push_back((p.is_relative() ? folder / p : p).lexically_normal().string());
        }
      }
      table.lines_.push_back(record.line);
      last_line[entity] = record.line;
    } catch (const DataError& e) {
      bad.add(e);
    }
  }
  const std::int64_t bad_rows = bad.count();
  // Drop index entries of entities whose every row was bad.
  for (auto it = table.index_.begin(); it != table.index_.end();) {
    it = it->second.empty() ? table.index_.erase(it) : std::next(it);
  }
  table.by_date_ = table.index_;  // rows were appended in date order
  // As-of lookups search by availability; rows that become public together keep date order.
  for (auto& [entity, rows] : table.index_) {
    std::stable_sort(rows.begin(), rows.end(),
                     [&](std::size_t a, std::size_t b) { return table.available_[a] < table.available_[b]; });
  }
  logger()->info("{}: {} row(s) of {} {} table, {} numeric and {} categorical column(s){}", file, table.rows(),
                 table.index_.size(), options.kind, table.columns_.size(), table.categorical_columns_.size(),
                 bad_rows > 0 ? fmt::format(", {} bad row(s) skipped", bad_rows) : std::string());
  bad.log_summary(file);
  return table;
}

std::vector<std::string> NumericTable::entities() const {
  std::vector<std::string> out;
  for (const auto& entry : index_) {
    out.push_back(entry.first);
  }
  return out;
}

std::optional<std::size_t> NumericTable::row_as_of(const std::string& entity, Timestamp t) const {
  const auto it = index_.find(entity);
  if (it == index_.end()) {
    return std::nullopt;
  }
  const auto& rows = it->second;
  const auto after = std::upper_bound(rows.begin(), rows.end(), t,
                                      [&](Timestamp time, std::size_t row) { return time < available_[row]; });
  if (after == rows.begin()) {
    return std::nullopt;
  }
  return *(after - 1);
}

float NumericTable::last_observed(const std::string& entity, Timestamp t, std::size_t column) const {
  const auto it = index_.find(entity);
  if (it == index_.end()) {
    return std::numeric_limits<float>::quiet_NaN();
  }
  const auto& rows = it->second;
  auto position = std::upper_bound(rows.begin(), rows.end(), t,
                                   [&](Timestamp time, std::size_t row) { return time < available_[row]; });
  while (position != rows.begin()) {
    --position;
    const float v = value(*position, column);
    if (!std::isnan(v)) {
      return v;
    }
  }
  return std::numeric_limits<float>::quiet_NaN();
}

std::optional<std::size_t> NumericTable::row_on(const std::string& entity, Date date) const {
  const auto it = by_date_.find(entity);
  if (it == by_date_.end()) {
    return std::nullopt;
  }
  const auto& rows = it->second;
  const auto found = std::lower_bound(rows.begin(), rows.end(), date,
                                      [&](std::size_t row, Date d) { return dates_[row] < d; });
  if (found == rows.end() || dates_[*found] != date) {
    return std::nullopt;
  }
  return *found;
}

std::optional<std::size_t> NumericTable::text_column_index(const std::string& name) const {
  const auto it = std::find(text_columns_.begin(), text_columns_.end(), name);
  if (it == text_columns_.end()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - text_columns_.begin());
}

std::optional<std::size_t> NumericTable::column_index(const std::string& name) const {
  const auto it = std::find(columns_.begin(), columns_.end(), name);
  if (it == columns_.end()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - columns_.begin());
}

std::optional<std::size_t> NumericTable::row_of(const std::string& entity) const {
  const auto it = index_.find(entity);
  if (it == index_.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second.front();
}

void NumericTableOptions::validate(const Config& config) {
  if (kind == "static" && !config.contains("entity_column") && entity_column == "symbol") {
    entity_column = "id";
  }
  if (!label_classes.empty() && label_column.empty()) {
    config.fail_at("label_classes", "names the classes of the label column; set label_column too");
  }
  if (label_classes.size() == 1) {
    config.fail_at("label_classes", "needs at least two classes");
  }
  if (kind != "static" && entity_column.empty()) {
    config.fail_at("entity_column", "only a static table may go without an id column (its rows are then named by line)");
  }
  if (kind == "static" && !available_column.empty()) {
    config.fail_at("available_column", "a static table has no time; remove available_column or use kind 'entity'");
  }
}

}  // namespace finfuse::data
