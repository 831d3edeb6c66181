// The price modality: windows of price features cut from each entity's series at the sample's last bar.
#include "finfuse/data/modalities/price.h"

#include "finfuse/core/check.h"

namespace finfuse::data {

PriceModality::PriceModality(const DatasetOptions& options) : Modality("price"), options_(options.price) {}

void PriceModality::build(const ModalityContext& context) {
  FINFUSE_CHECK(context.sources.prices != nullptr, "the 'price' modality needs a price panel");
  context.require_timed("price");
  window_ = context.samples.price_window;
  FINFUSE_CHECK(window_ > 0, "the sample set has no price window length");
  values_.clear();
  values_.reserve(context.size() * static_cast<std::size_t>(window_ * options_.features()));
  for (std::size_t i = 0; i < context.size(); ++i) {
    const auto window =
        price_window(context.sources.prices->series(context.entity(i)), context.sample(i).last_bar, window_, options_);
    values_.insert(values_.end(), window.begin(), window.end());
  }
}

std::vector<ModalitySpec> PriceModality::specs() const { return {ModalitySpec(name(), {window_, options_.features()})}; }

void PriceModality::collate(const std::vector<std::size_t>& indices, Batch& batch) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  const std::int64_t features = options_.features();
  batch.modalities[name()] = ModalityBatch{gather_rows(values_.data(), window_ * features, indices, {b, window_, features}),
                                           torch::Tensor(), gather_presence(nullptr, indices)};
}

void PriceModality::save(BinaryWriter& out) const {
  out.pod(window_);
  out.vec(values_);
}

void PriceModality::load(BinaryReader& in, std::size_t samples) {
  window_ = in.pod<std::int64_t>();
  values_ = in.vec<float>();
  if (window_ < 0 || values_.size() != samples * static_cast<std::size_t>(window_ * options_.features())) {
    in.inconsistent("price windows");
  }
}

}  // namespace finfuse::data
