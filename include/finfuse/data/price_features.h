// Price windows as model input: the bars of a window turned into a [days, 5] matrix of open, high, low, close
// (split- and dividend-adjusted through adj_close / close) and volume, normalised so that windows of different
// price levels are comparable.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/price_panel.h"

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::data {

struct PriceWindowOptions {
  /// "returns": each price over the previous day's close, minus 1 (the bar before the window supplies the first
  /// day's reference; without one the window's first close does); volume as log1p, demeaned over the window.
  /// "relative": each price over the window's last close, minus 1; volume over the window's mean volume, minus 1.
  /// "zscore": each column z-scored within the window (a constant column becomes 0).
  std::string normalize = "returns";

  static PriceWindowOptions from_config(const Config& config);
  Json to_json() const;
};

/// Number of features per day: open, high, low, close, volume.
constexpr std::int64_t kPriceFeatures = 5;

/// The window of bars [last - length + 1, last] of `series` as a row-major [length, 5] matrix. Throws
/// finfuse::Error when the window does not fit in the series.
std::vector<float> price_window(const PriceSeries& series, std::int64_t last, std::int64_t length,
                                const PriceWindowOptions& options);

}  // namespace finfuse::data
