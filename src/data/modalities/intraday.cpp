// The intraday modality: the windows of the last bars known at each sample's decision, finished from the shared bars
// when a batch is collated.
#include "finfuse/data/modalities/intraday.h"

#include "finfuse/core/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace finfuse::data {

IntradayModality::IntradayModality(const DatasetOptions& options)
    : Modality("intraday"), options_(options.intraday) {}

void IntradayModality::build(const ModalityContext& context) {
  FINFUSE_CHECK(context.sources.intraday != nullptr,
                "the 'intraday' modality needs intraday bars: set data.intraday to a file of them");
  context.require_timed("intraday");
  const IntradayPanel& panel = *context.sources.intraday;
  window_ = options_.window;
  values_ = panel.values();
  offsets_ = panel.offsets();
  const std::int64_t max_age = options_.max_age_hours * 3600;
  // Each entity's symbol looked up once.
  constexpr std::int64_t kUnknown = -2;
  std::vector<std::int64_t> symbol_of(context.samples.entities.size(), kUnknown);
  std::vector<std::int64_t> end_row(context.size(), -1);
  std::vector<std::uint8_t> present(context.size(), 0);
  const std::int64_t* known = panel.known_at().data();
  for (std::size_t i = 0; i < context.size(); ++i) {
    const Sample& sample = context.sample(i);
    std::int64_t& s = symbol_of[static_cast<std::size_t>(sample.entity)];
    if (s == kUnknown) {
      const auto found = panel.find(context.entity(i));
      s = found ? static_cast<std::int64_t>(*found) : -1;
    }
    if (s < 0) {
      continue;
    }
    const auto last = panel.last_known(static_cast<std::size_t>(s), sample.time());
    if (!last || *last - window_ + 1 < panel.begin(static_cast<std::size_t>(s))) {
      continue;
    }
    const std::int64_t at = known[*last];
    if (at > sample.time().seconds()) {
      throw LookaheadError(fmt::format("intraday window of sample {} ({}) ends with a bar known at {}, after its decision "
                                       "at {}",
                                       i, context.entity(i), Timestamp(at).to_string(), sample.time().to_string()));
    }
    if (max_age > 0 && sample.time().seconds() - at > max_age) {
      continue;
    }
    end_row[i] = *last;
    present[i] = 1;
  }
  end_row_ = std::move(end_row);
  present_ = std::move(present);
}

std::vector<ModalitySpec> IntradayModality::specs() const { return {ModalitySpec(name(), {window_, kFeatures})}; }

void IntradayModality::features(const float* values, std::int64_t end, std::int64_t window, float* out) {
  const std::int64_t first = end - window + 1;
  constexpr std::int64_t v = IntradayPanel::kValues;
  double mean_volume = 0.0;
  for (std::int64_t d = 0; d < window; ++d) {
    const float* bar = values + (first + d) * v;
    const double reference = d == 0 ? bar[0] : values[(first + d - 1) * v + 3];
    float* row = out + d * kFeatures;
    for (int f = 0; f < 4; ++f) {
      row[f] = static_cast<float>(static_cast<double>(bar[f]) / reference - 1.0);
    }
    const double volume = std::log1p(static_cast<double>(bar[4]));
    row[4] = static_cast<float>(volume);  // demeaned below, once the mean is known
    mean_volume += volume;
  }
  mean_volume /= static_cast<double>(window);
  for (std::int64_t d = 0; d < window; ++d) {
    float* row = out + d * kFeatures;
    row[4] = static_cast<float>(static_cast<double>(row[4]) - mean_volume);
  }
}

void IntradayModality::collate(const std::vector<std::size_t>& indices, Batch& batch) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  torch::Tensor out = torch::empty({b, window_, kFeatures}, torch::kFloat32);
  float* data = out.data_ptr<float>();
  for (std::size_t k = 0; k < indices.size(); ++k) {
    float* window = data + static_cast<std::int64_t>(k) * window_ * kFeatures;
    const std::int64_t end = end_row_[indices[k]];
    if (end < 0) {
      std::fill_n(window, window_ * kFeatures, 0.0f);
    } else {
      features(values_.data(), end, window_, window);
    }
  }
  batch.modalities[name()] = ModalityBatch{out, torch::Tensor(), gather_presence(present_, indices)};
}

void IntradayModality::save(BinaryWriter& out) const {
  out.pod(window_);
  out.vec(offsets_);
  out.vec(values_);
  out.vec(end_row_);
  out.vec(present_);
}

void IntradayModality::load(BinaryReader& in, const SampleList& list) {
  const std::size_t samples = list.size();
  window_ = in.pod<std::int64_t>();
  offsets_ = in.vec<std::int64_t>();
  values_ = in.array<float>();
  end_row_ = in.array<std::int64_t>();
  present_ = in.array<std::uint8_t>();
  const bool offsets_ok = !offsets_.empty() && offsets_.front() == 0 && std::is_sorted(offsets_.begin(), offsets_.end()) &&
                          static_cast<std::size_t>(offsets_.back()) * IntradayPanel::kValues == values_.size();
  if (window_ <= 0 || !offsets_ok || end_row_.size() != samples || present_.size() != samples) {
    in.inconsistent("intraday windows");
  }
  for (std::size_t i = 0; i < samples; ++i) {
    const std::int64_t end = end_row_[i];
    if (present_[i] == 0) {
      if (end != -1) {
        in.inconsistent(fmt::format("intraday window of sample {} (absent, row {})", i, end));
      }
      continue;
    }
    // The window lies within the rows of the symbol its last bar belongs to.
    const auto after = std::upper_bound(offsets_.begin(), offsets_.end(), end);
    if (end < 0 || end >= offsets_.back() || end - window_ + 1 < *(after - 1)) {
      in.inconsistent(fmt::format("intraday window of sample {} (row {} of {})", i, end, offsets_.back()));
    }
  }
}

}  // namespace finfuse::data
