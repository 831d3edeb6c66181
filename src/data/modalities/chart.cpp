// The chart modality: candlestick charts rendered from each sample's last days of prices.
#include "finfuse/data/modalities/chart.h"

#include "finfuse/core/check.h"

#include <algorithm>

namespace finfuse::data {

ChartModality::ChartModality(const DatasetOptions& options)
    : PixelModality("chart", {1, options.chart.image_height(), options.chart.image_width()}, "charts"),
      options_(options.chart) {}

void ChartModality::build(const ModalityContext& context) {
  FINFUSE_CHECK(context.sources.prices != nullptr, "the 'chart' modality needs a price panel");
  context.require_timed("chart");
  const auto n = context.size();
  PixelSamples& images = reset_images(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Sample& s = context.sample(i);
    if (s.last_bar - options_.days + 1 < 0) {
      continue;  // not enough history for a chart: the modality is absent for this sample
    }
    const Image image = render_chart(context.sources.prices->series(context.entity(i)), s.last_bar, options_);
    std::copy(image.pixels.begin(), image.pixels.end(), images.sample(i));
    images.set_present(i);
  }
}

}  // namespace finfuse::data
