// The "price" modality: each sample's window of price features up to its last bar before the decision, [L, F]. The
// windows are views: the modality keeps each bar's features once (PriceBars) and the first row of each entity's series,
// finds a sample's last row from its entity and last bar, and finishes the window when a batch is collated, so memory
// grows with the bars and not with the samples times the window length.
#pragma once

#include "finfuse/data/modality.h"
#include "finfuse/data/price_features.h"

#include <cstdint>
#include <vector>

namespace finfuse::data {

class PriceModality : public Modality {
 public:
  /// Uses options.price; the window length is the sample set's.
  explicit PriceModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;
  std::vector<ModalitySpec> specs() const override;
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override;
  double coverage() const override { return present_.empty() ? 1.0 : fraction_present(present_); }
  void save(BinaryWriter& out) const override;
  void load(BinaryReader& in, const SampleList& samples) override;
  /// The bars of every series the windows come from.
  const PriceBars& bars() const { return bars_; }
  /// Bytes its built inputs hold: the bars once and a row per entity; the market's a row (and presence flag) per
  /// sample.
  std::size_t bytes() const {
    return bars_.bytes() + first_row_.size() * sizeof(std::int32_t) + end_row_.size() * sizeof(std::int32_t) +
           present_.size() * sizeof(std::uint8_t);
  }

 protected:
  /// For modalities of other series' windows (the market's).
  PriceModality(std::string name, const DatasetOptions& options);

  PriceWindowOptions options_;
  std::int64_t window_ = 0;
  /// The bars of every series that a sample's window comes from.
  PriceBars bars_;
  /// The samples (shared with the dataset) and, per entity, the row of bars_ where its series starts: sample i's last
  /// bar lies at row first_row_[entity] + last_bar.
  SampleList samples_;
  SharedArray<std::int32_t> first_row_;
  /// Or (the market's) [N]: the row of bars_ of each sample's last bar; -1 where a sample has no window.
  SharedArray<std::int32_t> end_row_;
  /// Which samples have a window (empty: every one).
  SharedArray<std::uint8_t> present_;
};

}  // namespace finfuse::data
