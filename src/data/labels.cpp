#include "finfuse/data/labels.h"

#include "finfuse/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace finfuse::data {

LabelOptions LabelOptions::from_config(const Config& config) {
  LabelOptions o;
  o.kind = config.get_choice("kind", o.kind, {"direction", "return", "excess_return", "rank", "column"});
  o.table = config.get<std::string>("table", o.table);
  o.column = config.get<std::string>("column", o.column);
  if (o.kind == "column" && (o.table.empty() || o.column.empty())) {
    config.fail_at(o.table.empty() ? "table" : "column", "a label of kind 'column' needs the table and its column");
  }
  o.horizon = config.get<std::int64_t>("horizon", o.horizon, Range::at_least(1));
  o.return_type = config.get_choice("return_type", o.return_type, {"simple", "log"});
  o.up_threshold = config.get<double>("up_threshold", o.up_threshold);
  o.down_threshold = config.get<double>("down_threshold", o.down_threshold);
  if (o.down_threshold > o.up_threshold) {
    config.fail_at("down_threshold",
                   fmt::format("must be <= up_threshold ({}), got {}", o.up_threshold, o.down_threshold));
  }
  o.price = config.get_choice("price", o.price, {"adj_close", "close"});
  config.reject_unknown_keys();
  return o;
}

Json LabelOptions::to_json() const {
  return Json{{"kind", kind},
              {"table", table},
              {"column", column},
              {"horizon", horizon},
              {"return_type", return_type},
              {"up_threshold", up_threshold},
              {"down_threshold", down_threshold},
              {"price", price}};
}

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

}  // namespace finfuse::data
