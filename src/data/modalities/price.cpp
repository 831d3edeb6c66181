// The price and market modalities: windows of price features finished, when a batch is collated, from the bars of
// each entity's series up to the sample's last bar, and from the market index's series up to the same day.
#include "finfuse/data/modalities/price.h"

#include "finfuse/core/check.h"
#include "finfuse/core/runtime.h"
#include "finfuse/data/modalities/market.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace finfuse::data {
namespace {

// fn(i, last_bar(i)) for every sample, in order, a block of last bars at a time.
template <typename Fn>
void for_each_last_bar(const SampleList& samples, Fn&& fn) {
  constexpr std::size_t kBlock = 1 << 14;
  std::vector<std::int32_t> last(std::min(kBlock, samples.size()));
  for (std::size_t first = 0; first < samples.size(); first += kBlock) {
    const std::size_t count = std::min(kBlock, samples.size() - first);
    samples.last_bars(first, count, last.data());
    for (std::size_t k = 0; k < count; ++k) {
      fn(first + k, last[k]);
    }
  }
}

}  // namespace

PriceModality::PriceModality(const DatasetOptions& options) : PriceModality("price", options) {}

PriceModality::PriceModality(std::string name, const DatasetOptions& options)
    : Modality(std::move(name)), options_(options.price) {}

void PriceModality::build(const ModalityContext& context) {
  FINFUSE_CHECK(context.sources.prices != nullptr, "the 'price' modality needs a price panel");
  context.require_timed("price");
  window_ = context.samples.price_window;
  FINFUSE_CHECK(window_ > 0, "the sample set has no price window length");
  PricePanel* release = context.sources.prices_to_release;
  FINFUSE_CHECK(release == nullptr || release == context.sources.prices,
                "the price panel to release is not the sources' price panel");
  bars_ = PriceBars(options_);
  present_ = {};
  // Each entity's series once, in the order its first sample comes, at the rows that follow the previous one's.
  const std::size_t entities = context.samples.entities.size();
  std::vector<std::int64_t> first_row(entities, -1);
  std::vector<std::int64_t> bars(entities, 0);
  std::vector<std::int32_t> order;
  std::int64_t rows = 0;
  for (std::size_t i = 0; i < context.size(); ++i) {
    const auto entity = static_cast<std::size_t>(context.samples.samples.entity(i));
    if (first_row[entity] < 0) {
      first_row[entity] = rows;
      bars[entity] = static_cast<std::int64_t>(context.sources.prices->series(context.entity(i)).size());
      rows += bars[entity];
      order.push_back(static_cast<std::int32_t>(entity));
    }
  }
  FINFUSE_CHECK(rows <= std::numeric_limits<std::int32_t>::max(), "the 'price' modality holds at most ",
                std::numeric_limits<std::int32_t>::max(), " bars (32-bit rows); its series have ", rows);
  for_each_last_bar(context.samples.samples, [&](std::size_t i, std::int32_t last) {
    const auto entity = static_cast<std::size_t>(context.samples.samples.entity(i));
    FINFUSE_CHECK(last < bars[entity] && last - window_ + 1 >= 0, "price window of ", window_, " days ending at bar ",
                  last, " does not fit the ", bars[entity], " bars of ", context.entity(i));
  });
  bars_.reserve(rows);
  // A released series' memory goes back to the system every so many bars, as the bars made from it take its place.
  constexpr std::int64_t kReturnEvery = 1 << 18;
  std::int64_t released = 0;
  for (const std::int32_t entity : order) {
    const std::string& symbol = context.samples.entities[static_cast<std::size_t>(entity)];
    if (release == nullptr) {
      (void)bars_.append(context.sources.prices->series(symbol));  // at first_row[entity]: the sizes summed in order
      continue;
    }
    (void)bars_.append(release->take(symbol));
    released += bars[static_cast<std::size_t>(entity)];
    if (released >= kReturnEvery) {
      return_freed_memory();
      released = 0;
    }
  }
  bars_.finish();
  std::vector<std::int32_t> first(entities, 0);
  for (std::size_t e = 0; e < entities; ++e) {
    first[e] = static_cast<std::int32_t>(std::max<std::int64_t>(first_row[e], 0));
  }
  first_row_ = std::move(first);
  samples_ = context.samples.samples;
  end_row_ = {};
}

std::vector<ModalitySpec> PriceModality::specs() const { return {ModalitySpec(name(), {window_, options_.features()})}; }

void PriceModality::collate(const std::vector<std::size_t>& indices, Batch& batch) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  const std::int64_t features = options_.features();
  torch::Tensor values = torch::empty({b, window_, features}, torch::kFloat32);
  float* out = values.data_ptr<float>();
  // The rows of the batch's last bars: one a sample (the market's), or from each sample's entity and last bar.
  std::vector<std::int32_t> last;
  if (end_row_.empty()) {
    last.resize(indices.size());
    samples_.last_bars_of(indices, last.data());
  }
  for (std::size_t k = 0; k < indices.size(); ++k) {
    float* window = out + static_cast<std::int64_t>(k) * window_ * features;
    const std::int64_t end =
        end_row_.empty()
            ? std::int64_t{first_row_[static_cast<std::size_t>(samples_.entity(indices[k]))]} + last[k]
            : std::int64_t{end_row_[indices[k]]};
    if (end < 0) {
      std::fill_n(window, window_ * features, 0.0f);
    } else {
      bars_.window(end, window_, window);
    }
  }
  batch.modalities[name()] = ModalityBatch{values, torch::Tensor(), gather_presence(present_, indices)};
}

void PriceModality::save(BinaryWriter& out) const {
  out.pod(window_);
  bars_.save(out);
  out.vec(first_row_);
  out.vec(end_row_);
  out.vec(present_);
}

void PriceModality::load(BinaryReader& in, const SampleList& samples) {
  const std::size_t n = samples.size();
  window_ = in.pod<std::int64_t>();
  bars_ = PriceBars(options_);
  bars_.load(in);
  first_row_ = in.array<std::int32_t>();
  end_row_ = in.array<std::int32_t>();
  present_ = in.array<std::uint8_t>();
  const bool rows_per_sample = end_row_.size() == n && first_row_.empty();
  if (window_ <= 0 || (!rows_per_sample && (!end_row_.empty() || !present_.empty())) ||
      (!present_.empty() && present_.size() != n)) {
    in.inconsistent(name() + " windows");
  }
  const auto refuse = [&](std::size_t i, std::int64_t end) {
    in.inconsistent(fmt::format("{} window of sample {} (row {} of {})", name(), i, end, bars_.rows()));
  };
  if (rows_per_sample) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t end = end_row_[i];
      const bool absent = !present_.empty() && present_[i] == 0;
      if (absent ? end != -1 : end - window_ + 1 < 0 || end >= bars_.rows()) {
        refuse(i, end);
      }
    }
    return;
  }
  // Each entity's windows lie within its bars when its first and last do: a bound per entity, not a pass over the
  // samples where their last bars are kept in stretches.
  // An entity's bars end where the next entity's (by first row) begin.
  samples_ = samples;
  const auto bounds = samples_.last_bar_bounds();
  std::vector<std::pair<std::int64_t, std::size_t>> starts;
  for (std::size_t entity = 0; entity < bounds.size(); ++entity) {
    if (bounds[entity].first <= bounds[entity].second) {
      starts.emplace_back(entity < first_row_.size() ? first_row_[entity] : -1, entity);
    }
  }
  std::sort(starts.begin(), starts.end());
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const auto [first, entity] = starts[k];
    const std::int64_t end = k + 1 < starts.size() ? starts[k + 1].first : bars_.rows();
    const auto [low, high] = bounds[entity];
    if (first < 0 || low - window_ + 1 < 0 || first + high >= end) {
      in.inconsistent(fmt::format("{} windows of entity {} (last bars {} to {}, its bars in rows [{}, {}) of {})",
                                  name(), entity, low, high, first, end, bars_.rows()));
    }
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
  FINFUSE_CHECK(market.size() <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                "the 'market' modality holds at most ", std::numeric_limits<std::int32_t>::max(),
                " bars (32-bit rows); the index has ", market.size());
  bars_ = PriceBars(options_);
  const std::int64_t first = bars_.append(market);
  bars_.finish();
  std::vector<std::int32_t> end_row(context.size(), -1);
  std::vector<std::uint8_t> present(context.size(), 0);
  for_each_last_bar(context.samples.samples, [&](std::size_t i, std::int32_t own_last) {
    const auto& own = context.sources.prices->series(context.entity(i));
    // The sample's own last bar passed the lookahead guard; an index bar of that day or earlier closed no later.
    const Date last_day = own.dates[static_cast<std::size_t>(own_last)];
    const auto last = market.index_at_or_before(last_day);
    if (!last || static_cast<std::int64_t>(*last) + 1 < window_) {
      return;
    }
    FINFUSE_CHECK(market.dates[*last] <= last_day, "market window of sample ", i, " ends after its own last bar");
    end_row[i] = static_cast<std::int32_t>(first + static_cast<std::int64_t>(*last));
    present[i] = 1;
  });
  first_row_ = {};
  samples_ = {};
  end_row_ = std::move(end_row);
  present_ = std::move(present);
}

}  // namespace finfuse::data
