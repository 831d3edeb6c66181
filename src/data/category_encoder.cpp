#include "finfuse/data/category_encoder.h"

#include "finfuse/core/check.h"

#include <fmt/format.h>

#include <algorithm>

namespace finfuse::data {

void CategoryEncoder::fit(const std::vector<std::string>& rows, std::size_t columns,
                          const std::vector<std::string>& names, std::int64_t min_frequency) {
  FINFUSE_CHECK(columns > 0 && rows.size() % columns == 0, "CategoryEncoder::fit: ", rows.size(),
                " values do not form rows of ", columns, " columns");
  FINFUSE_CHECK(names.size() == columns, "CategoryEncoder::fit: ", names.size(), " names for ", columns, " columns");
  FINFUSE_CHECK(min_frequency >= 1, "CategoryEncoder::fit: min_frequency must be >= 1, got ", min_frequency);
  names_ = names;
  vocabularies_.assign(columns, {});
  const std::size_t n = rows.size() / columns;
  for (std::size_t c = 0; c < columns; ++c) {
    std::map<std::string, std::int64_t> counts;
    for (std::size_t r = 0; r < n; ++r) {
      const auto& value = rows[r * columns + c];
      if (!value.empty()) {
        ++counts[value];
      }
    }
    std::int64_t next = 1;
    for (const auto& [value, count] : counts) {  // sorted, so ids do not depend on row order
      if (count >= min_frequency) {
        vocabularies_[c].emplace(value, next++);
      }
    }
  }
}

std::vector<std::int64_t> CategoryEncoder::transform(const std::vector<std::string>& rows) const {
  const std::size_t columns = vocabularies_.size();
  FINFUSE_CHECK(columns > 0, "CategoryEncoder::transform: call fit() first");
  FINFUSE_CHECK(rows.size() % columns == 0, "CategoryEncoder::transform: ", rows.size(), " values do not form rows of ",
                columns, " columns");
  std::vector<std::int64_t> ids(rows.size(), 0);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& vocabulary = vocabularies_[i % columns];
    const auto it = vocabulary.find(rows[i]);
    ids[i] = it == vocabulary.end() ? 0 : it->second;
  }
  return ids;
}

Json CategoryEncoder::to_json() const {
  Json columns = Json::array();
  for (std::size_t c = 0; c < vocabularies_.size(); ++c) {
    std::vector<std::string> values(vocabularies_[c].size());
    for (const auto& [value, id] : vocabularies_[c]) {
      values[static_cast<std::size_t>(id - 1)] = value;
    }
    columns.push_back(Json{{"name", names_[c]}, {"categories", values}});
  }
  return Json{{"columns", columns}};
}

CategoryEncoder CategoryEncoder::from_json(const Config& state) {
  CategoryEncoder encoder;
  const Config columns = state.child("columns");
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Config column = columns[c];
    encoder.names_.push_back(column.get<std::string>("name"));
    const auto values = column.get<std::vector<std::string>>("categories");
    std::map<std::string, std::int64_t> vocabulary;
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (values[k].empty() || !vocabulary.emplace(values[k], static_cast<std::int64_t>(k) + 1).second) {
        column.child("categories")[k].fail(values[k].empty() ? "empty category" : "duplicate category '" + values[k] + "'");
      }
    }
    encoder.vocabularies_.push_back(std::move(vocabulary));
    column.reject_unknown_keys();
  }
  state.reject_unknown_keys();
  return encoder;
}

}  // namespace finfuse::data
