// The chart modality: candlestick charts rendered from each sample's last days of prices.
#include "finfuse/data/modalities/chart.h"

#include "finfuse/core/check.h"

#include <algorithm>

namespace finfuse::data {

ChartModality::ChartModality(const DatasetOptions& options) : Modality("chart"), options_(options.chart) {}

void ChartModality::build(const ModalityContext& context) {
  FINFUSE_CHECK(context.sources.prices != nullptr, "the 'chart' modality needs a price panel");
  context.require_timed("chart");
  const auto n = context.size();
  images_.reset(n, 1, options_.image_height(), options_.image_width());
  for (std::size_t i = 0; i < n; ++i) {
    const Sample& s = context.sample(i);
    if (s.last_bar - options_.days + 1 < 0) {
      continue;  // not enough history for a chart: the modality is absent for this sample
    }
    const Image image = render_chart(context.sources.prices->series(context.entity(i)), s.last_bar, options_);
    std::copy(image.pixels.begin(), image.pixels.end(), images_.sample(i));
    images_.set_present(i);
  }
}

std::vector<ModalitySpec> ChartModality::specs() const { return {ModalitySpec(name(), images_.shape())}; }

void ChartModality::collate(const std::vector<std::size_t>& indices, Batch& batch) const {
  batch.modalities[name()] = images_.collate(indices);
}

void ChartModality::save(BinaryWriter& out) const { images_.save(out); }

void ChartModality::load(BinaryReader& in, std::size_t samples) {
  images_.load(in, samples, "charts");
  if (images_.shape() != std::vector<std::int64_t>{1, options_.image_height(), options_.image_width()}) {
    in.inconsistent("charts of another size than the chart options give");
  }
}

}  // namespace finfuse::data
