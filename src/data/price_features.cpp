#include "finfuse/data/price_features.h"

#include "finfuse/core/check.h"

#include <algorithm>
#include <cmath>

namespace finfuse::data {

std::vector<float> price_window(const PriceSeries& series, std::int64_t last, std::int64_t length,
                                const PriceWindowOptions& options) {
  const auto n = static_cast<std::int64_t>(series.size());
  FINFUSE_CHECK(length >= 1 && last < n && last - length + 1 >= 0, "price window of ", length, " days ending at bar ",
                last, " does not fit the ", n, " bars of ", series.symbol);
  const std::int64_t first = last - length + 1;
  // Adjusted OHLC: scale the raw prices by the day's adjustment factor.
  const auto adjusted = [&](std::int64_t i, int field) {
    const auto k = static_cast<std::size_t>(i);
    const double factor = series.adj_close[k] / series.close[k];
    switch (field) {
      case 0:
        return series.open[k] * factor;
      case 1:
        return series.high[k] * factor;
      case 2:
        return series.low[k] * factor;
      default:
        return series.adj_close[k];
    }
  };
  const std::int64_t width = options.features();
  std::vector<double> out(static_cast<std::size_t>(length * width));
  const auto at = [&](std::int64_t day, int feature) -> double& {
    return out[static_cast<std::size_t>(day * width + feature)];
  };
  if (options.normalize == "technical") {
    for (std::int64_t d = 0; d < length; ++d) {
      const auto i = static_cast<std::size_t>(first + d);
      const double close = series.close[i];
      at(d, 0) = series.open[i] / close - 1.0;
      at(d, 1) = series.high[i] / close - 1.0;
      at(d, 2) = series.low[i] / close - 1.0;
      at(d, 3) = i > 0 ? close / series.close[i - 1] - 1.0 : 0.0;
      at(d, 4) = i > 0 ? series.adj_close[i] / series.adj_close[i - 1] - 1.0 : 0.0;
      int feature = 5;
      for (const int period : {5, 10, 15, 20, 25, 30}) {
        const auto k = static_cast<std::size_t>(period);
        const std::size_t count = std::min(k, i + 1);
        double sum = 0.0;
        for (std::size_t j = 0; j < count; ++j) {
          sum += series.adj_close[i - j];
        }
        at(d, feature++) = sum / static_cast<double>(count) / series.adj_close[i] - 1.0;
      }
    }
  } else if (options.normalize == "returns") {
    for (std::int64_t d = 0; d < length; ++d) {
      const std::int64_t i = first + d;
      const double reference = i > 0 ? series.adj_close[static_cast<std::size_t>(i - 1)] : adjusted(first, 3);
      for (int f = 0; f < 4; ++f) {
        at(d, f) = adjusted(i, f) / reference - 1.0;
      }
      at(d, 4) = std::log1p(series.volume[static_cast<std::size_t>(i)]);
    }
    double mean = 0;
    for (std::int64_t d = 0; d < length; ++d) {
      mean += at(d, 4);
    }
    mean /= static_cast<double>(length);
    for (std::int64_t d = 0; d < length; ++d) {
      at(d, 4) -= mean;
    }
  } else if (options.normalize == "relative") {
    const double last_close = series.adj_close[static_cast<std::size_t>(last)];
    double mean_volume = 0;
    for (std::int64_t d = 0; d < length; ++d) {
      mean_volume += series.volume[static_cast<std::size_t>(first + d)];
    }
    mean_volume /= static_cast<double>(length);
    for (std::int64_t d = 0; d < length; ++d) {
      for (int f = 0; f < 4; ++f) {
        at(d, f) = adjusted(first + d, f) / last_close - 1.0;
      }
      at(d, 4) = mean_volume > 0 ? series.volume[static_cast<std::size_t>(first + d)] / mean_volume - 1.0 : 0.0;
    }
  } else {
    for (int f = 0; f < 5; ++f) {
      double mean = 0;
      for (std::int64_t d = 0; d < length; ++d) {
        at(d, f) = f < 4 ? adjusted(first + d, f) : series.volume[static_cast<std::size_t>(first + d)];
        mean += at(d, f);
      }
      mean /= static_cast<double>(length);
      double variance = 0;
      for (std::int64_t d = 0; d < length; ++d) {
        variance += (at(d, f) - mean) * (at(d, f) - mean);
      }
      const double sd = std::sqrt(variance / static_cast<double>(length));
      for (std::int64_t d = 0; d < length; ++d) {
        at(d, f) = sd > 0 ? (at(d, f) - mean) / sd : 0.0;
      }
    }
  }
  return std::vector<float>(out.begin(), out.end());
}

}  // namespace finfuse::data
