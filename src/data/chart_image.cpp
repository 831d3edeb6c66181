#include "finfuse/data/chart_image.h"

#include "finfuse/core/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace finfuse::data {
namespace {

constexpr std::uint8_t kWhite = 255;

}  // namespace

std::int64_t ChartOptions::image_height() const {
  if (height > 0) {
    return height;
  }
  switch (days) {
    case 5:
      return 32;
    case 20:
      return 64;
    case 60:
      return 96;
    default:
      throw Error(fmt::format("chart: no standard height for {}-day images; set the height", days));
  }
}

Image render_chart(const PriceSeries& series, std::int64_t last, const ChartOptions& options) {
  const std::int64_t days = options.days;
  const std::int64_t first = last - days + 1;
  FINFUSE_CHECK(first >= 0 && last < static_cast<std::int64_t>(series.size()), "chart of ", days,
                " days ending at bar ", last, " does not fit the ", series.size(), " bars of ", series.symbol);
  const std::int64_t height = options.image_height();
  const std::int64_t width = options.image_width();
  const std::int64_t volume_rows = options.volume ? height / 5 : 0;
  const std::int64_t price_rows = height - volume_rows - (options.volume ? 1 : 0);

  std::vector<double> open(static_cast<std::size_t>(days));
  std::vector<double> high(open.size());
  std::vector<double> low(open.size());
  std::vector<double> close(open.size());
  std::vector<double> average(open.size());
  std::vector<double> volume(open.size());
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (std::int64_t d = 0; d < days; ++d) {
    const auto i = static_cast<std::size_t>(first + d);
    const auto k = static_cast<std::size_t>(d);
    const double factor = static_cast<double>(series.adj_close[i]) / series.close[i];
    open[k] = series.open[i] * factor;
    high[k] = series.high[i] * factor;
    low[k] = series.low[i] * factor;
    close[k] = series.adj_close[i];
    volume[k] = series.volume[i];
    const std::int64_t from = std::max<std::int64_t>(0, first + d - days + 1);
    double sum = 0;
    for (std::int64_t j = from; j <= first + d; ++j) {
      sum += series.adj_close[static_cast<std::size_t>(j)];
    }
    average[k] = sum / static_cast<double>(first + d - from + 1);
    lo = std::min({lo, low[k], open[k], close[k]});
    hi = std::max({hi, high[k], open[k], close[k]});
    if (options.moving_average) {
      lo = std::min(lo, average[k]);
      hi = std::max(hi, average[k]);
    }
  }
  const auto row_of = [&](double price) {
    if (!(hi > lo)) {
      return price_rows / 2;
    }
    const auto level = static_cast<std::int64_t>(std::lround((price - lo) / (hi - lo) * static_cast<double>(price_rows - 1)));
    return price_rows - 1 - std::clamp<std::int64_t>(level, 0, price_rows - 1);
  };

  Image image;
  image.height = height;
  image.width = width;
  image.channels = 1;
  image.pixels.assign(static_cast<std::size_t>(height * width), 0);
  const auto set = [&](std::int64_t row, std::int64_t column) {
    image.pixels[static_cast<std::size_t>(row * width + column)] = kWhite;
  };

  for (std::int64_t d = 0; d < days; ++d) {
    const auto k = static_cast<std::size_t>(d);
    set(row_of(open[k]), 3 * d);
    for (std::int64_t r = row_of(high[k]); r <= row_of(low[k]); ++r) {
      set(r, 3 * d + 1);
    }
    set(row_of(close[k]), 3 * d + 2);
  }
  if (options.moving_average) {
    // Bresenham lines between the averages at the middle column of consecutive days.
    for (std::int64_t d = 0; d + 1 < days; ++d) {
      std::int64_t x0 = 3 * d + 1;
      std::int64_t y0 = row_of(average[static_cast<std::size_t>(d)]);
      const std::int64_t x1 = 3 * d + 4;
      const std::int64_t y1 = row_of(average[static_cast<std::size_t>(d + 1)]);
      const std::int64_t dx = std::abs(x1 - x0);
      const std::int64_t dy = -std::abs(y1 - y0);
      const std::int64_t sy = y0 < y1 ? 1 : -1;
      std::int64_t error = dx + dy;
      while (true) {
        set(y0, x0);
        if (x0 == x1 && y0 == y1) {
          break;
        }
        const std::int64_t twice = 2 * error;
        if (twice >= dy) {
          error += dy;
          ++x0;
        }
        if (twice <= dx) {
          error += dx;
          y0 += sy;
        }
      }
    }
    if (days == 1) {
      set(row_of(average[0]), 1);
    }
  }
  if (options.volume) {
    const double peak = *std::max_element(volume.begin(), volume.end());
    for (std::int64_t d = 0; d < days && peak > 0; ++d) {
      const auto bar = static_cast<std::int64_t>(
          std::lround(volume[static_cast<std::size_t>(d)] / peak * static_cast<double>(volume_rows)));
      for (std::int64_t r = 0; r < bar; ++r) {
        set(height - 1 - r, 3 * d + 1);
      }
    }
  }
  return image;
}

void ChartOptions::validate(const Config& config) const {
  if (height == 0 && days != 5 && days != 20 && days != 60) {
    config.fail_at("height", fmt::format("give the image height for {}-day charts (only 5, 20 and 60 days have the "
                                         "paper's heights)",
                                         days));
  }
  if (height != 0 && height < 10) {
    config.fail_at("height", fmt::format("must be at least 10 pixels, got {}", height));
  }
}

}  // namespace finfuse::data
