// The chart modality: candlestick charts rendered from each sample's last days of prices.
#include "finfuse/data/modalities/chart.h"

#include "finfuse/core/check.h"

#include <algorithm>

namespace finfuse::data {

ChartModality::ChartModality(const DatasetOptions& options) : Modality("chart"), options_(options.chart) {}

void ChartModality::build(const ModalityContext& context) {
  FINFUSE_CHECK(context.sources.prices != nullptr, "the 'chart' modality needs a price panel");
  context.require_timed("chart");
  height_ = options_.image_height();
  width_ = options_.image_width();
  const auto n = context.size();
  const auto pixels = static_cast<std::size_t>(height_ * width_);
  pixels_.assign(n * pixels, 0);
  present_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const Sample& s = context.sample(i);
    if (s.last_bar - options_.days + 1 < 0) {
      continue;  // not enough history for a chart: the modality is absent for this sample
    }
    const Image image = render_chart(context.sources.prices->series(context.entity(i)), s.last_bar, options_);
    std::copy(image.pixels.begin(), image.pixels.end(), pixels_.begin() + static_cast<std::ptrdiff_t>(i * pixels));
    present_[i] = 1;
  }
}

std::vector<ModalitySpec> ChartModality::specs() const { return {ModalitySpec(name(), {1, height_, width_})}; }

void ChartModality::collate(const std::vector<std::size_t>& indices, Batch& batch) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  batch.modalities[name()] = ModalityBatch{gather_pixels(pixels_.data(), height_ * width_, indices, {b, 1, height_, width_}),
                                           torch::Tensor(), gather_presence(&present_, indices)};
}

void ChartModality::save(BinaryWriter& out) const {
  out.pod(height_);
  out.pod(width_);
  out.vec(pixels_);
  out.vec(present_);
}

void ChartModality::load(BinaryReader& in, std::size_t samples) {
  height_ = in.pod<std::int64_t>();
  width_ = in.pod<std::int64_t>();
  pixels_ = in.vec<std::uint8_t>();
  present_ = in.vec<std::uint8_t>();
  if (height_ < 0 || width_ < 0 || pixels_.size() != samples * static_cast<std::size_t>(height_ * width_) ||
      present_.size() != samples) {
    in.inconsistent("charts");
  }
}

}  // namespace finfuse::data
