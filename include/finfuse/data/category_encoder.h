// Categorical columns as integer ids: one vocabulary per column, fitted on the training rows only; id 0 is the bucket
// for missing values and categories not seen in training.
#pragma once

#include "finfuse/core/config.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace finfuse::data {

class CategoryEncoder {
 public:
  /// Learns each column's categories from the training rows (row-major, rows x columns); categories seen fewer than
  /// `min_frequency` times go to the unknown bucket. Empty strings are missing values.
  void fit(const std::vector<std::string>& rows, std::size_t columns, const std::vector<std::string>& names,
           std::int64_t min_frequency = 1);
  /// Ids of every value (row-major, rows x columns).
  std::vector<std::int64_t> transform(const std::vector<std::string>& rows) const;

  std::size_t columns() const { return vocabularies_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  /// Number of ids of column `c`, the unknown bucket included (an embedding table's size).
  std::int64_t cardinality(std::size_t c) const { return static_cast<std::int64_t>(vocabularies_[c].size()) + 1; }

  Json to_json() const;
  static CategoryEncoder from_json(const Config& state);

 private:
  std::vector<std::string> names_;
  std::vector<std::map<std::string, std::int64_t>> vocabularies_;
};

}  // namespace finfuse::data
