#include "finfuse/data/labels.h"

#include "finfuse/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace finfuse::data {

double forward_return(double p0, double p1, const std::string& return_type) {
  if (return_type == "log") {
    return std::log(p1 / p0);
  }
  return p1 / p0 - 1.0;
}

std::optional<float> direction_label(double r, const LabelOptions& options) {
  if (r > options.up_threshold) {
    return 1.0f;
  }
  if (r <= options.down_threshold) {
    return 0.0f;
  }
  return std::nullopt;
}

std::vector<double> percentile_ranks(const std::vector<double>& values) {
  const std::size_t n = values.size();
  std::vector<double> ranks(n, 0.5);
  if (n < 2) {
    return ranks;
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    while (j + 1 < n && values[order[j + 1]] == values[order[i]]) {
      ++j;
    }
    const double average_rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0;  // 0-based
    for (std::size_t k = i; k <= j; ++k) {
      ranks[order[k]] = average_rank / static_cast<double>(n - 1);
    }
    i = j + 1;
  }
  return ranks;
}

void LabelOptions::validate(const Config& config) const {
  if (kind == "column" && (table.empty() || column.empty())) {
    config.fail_at(table.empty() ? "table" : "column", "a label of kind 'column' needs the table and its column");
  }
  if (down_threshold > up_threshold) {
    config.fail_at("down_threshold", fmt::format("must be <= up_threshold ({}), got {}", up_threshold, down_threshold));
  }
}

}  // namespace finfuse::data
