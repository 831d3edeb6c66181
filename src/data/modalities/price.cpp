// The price and market modalities: windows of price features cut from each entity's series at the sample's last bar,
// and from the market index's series at the same day.
#include "finfuse/data/modalities/price.h"

#include "finfuse/core/check.h"
#include "finfuse/data/modalities/market.h"

namespace finfuse::data {

PriceModality::PriceModality(const DatasetOptions& options) : PriceModality("price", options) {}

PriceModality::PriceModality(std::string name, const DatasetOptions& options)
    : Modality(std::move(name)), options_(options.price) {}

void PriceModality::build(const ModalityContext& context) {
  FINFUSE_CHECK(context.sources.prices != nullptr, "the 'price' modality needs a price panel");
  context.require_timed("price");
  window_ = context.samples.price_window;
  FINFUSE_CHECK(window_ > 0, "the sample set has no price window length");
  values_.clear();
  present_.clear();
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
                                           torch::Tensor(), gather_presence(present_.empty() ? nullptr : &present_, indices)};
}

void PriceModality::save(BinaryWriter& out) const {
  out.pod(window_);
  out.vec(values_);
  out.vec(present_);
}

void PriceModality::load(BinaryReader& in, std::size_t samples) {
  window_ = in.pod<std::int64_t>();
  values_ = in.vec<float>();
  present_ = in.vec<std::uint8_t>();
  if (window_ < 0 || values_.size() != samples * static_cast<std::size_t>(window_ * options_.features()) ||
      (!present_.empty() && present_.size() != samples)) {
    in.inconsistent(name() + " windows");
  }
}

// ---------------------------------------------------------------------------------------------------------- market

MarketModality::MarketModality(const DatasetOptions& options) : PriceModality("market", options) {}

void MarketModality::build(const ModalityContext& context) {
  FINFUSE_CHECK(context.sources.market != nullptr,
                "the 'market' modality needs a market index series: set data.market to a price file of one instrument");
  FINFUSE_CHECK(context.sources.prices != nullptr, "the 'market' modality needs the samples' price panel");
  context.require_timed("market");
  window_ = context.samples.price_window;
  FINFUSE_CHECK(window_ > 0, "the sample set has no price window length");
  const PriceSeries& market = *context.sources.market;
  const auto width = static_cast<std::size_t>(window_ * options_.features());
  values_.assign(context.size() * width, 0.0f);
  present_.assign(context.size(), 0);
  for (std::size_t i = 0; i < context.size(); ++i) {
    const auto& own = context.sources.prices->series(context.entity(i));
    // The sample's own last bar passed the lookahead guard; an index bar of that day or earlier closed no later.
    const Date last_day = own.dates[static_cast<std::size_t>(context.sample(i).last_bar)];
    const auto last = market.index_at_or_before(last_day);
    if (!last || static_cast<std::int64_t>(*last) + 1 < window_) {
      continue;
    }
    FINFUSE_CHECK(market.dates[*last] <= last_day, "market window of sample ", i, " ends after its own last bar");
    const auto window = price_window(market, static_cast<std::int64_t>(*last), window_, options_);
    std::copy(window.begin(), window.end(), values_.begin() + static_cast<std::ptrdiff_t>(i * width));
    present_[i] = 1;
  }
}

}  // namespace finfuse::data
