// Price charts rendered as images in the style of Jiang, Kelly & Xiu, "(Re-)Imag(in)ing Price Trends" (2023): black
// background, each day three pixels wide (open tick left, high-low bar in the middle, close tick right), a moving
// average line, and volume bars in the bottom fifth.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/image.h"
#include "finfuse/data/price_panel.h"

#include <cstdint>

namespace finfuse::data {

struct ChartOptions {
#define FINFUSE_CHART_FIELDS(F)                                                                                   \
  F(std::int64_t, days, 20, ::finfuse::Range::closed(2, 1000),                                                    \
    "days per image: 5, 20 and 60 have the paper's heights (32, 64, 96 pixels); other lengths need height")       \
  F(std::int64_t, height, 0, ::finfuse::Range::closed(0, 4096), "image height in pixels; 0 uses the paper's height") \
  F(bool, moving_average, true, {}, "draw the moving average of the closes")                                      \
  F(bool, volume, true, {}, "draw volume bars")
  FINFUSE_FIELDS(ChartOptions, FINFUSE_CHART_FIELDS)
#undef FINFUSE_CHART_FIELDS

  void validate(const Config& config) const;
  /// The height the image will have.
  std::int64_t image_height() const;
  std::int64_t image_width() const { return 3 * days; }
};


/// Renders the `days` bars ending at bar `last` of `series` (prices adjusted by adj_close / close; the moving average
/// over `days` closes, using earlier bars where the series has them) as a one-channel image, 0 black, 255 white.
/// Throws finfuse::Error when the window does not fit in the series.
Image render_chart(const PriceSeries& series, std::int64_t last, const ChartOptions& options);

}  // namespace finfuse::data
