// The "price" modality: each sample's window of price features up to its last bar before the decision, [L, F].
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
  void load(BinaryReader& in, std::size_t samples) override;

 protected:
  /// For modalities of other series' windows (the market's).
  PriceModality(std::string name, const DatasetOptions& options);

  PriceWindowOptions options_;
  std::int64_t window_ = 0;
  std::vector<float> values_;  // [N, L, F]
  /// Which samples have a window (empty: every one).
  std::vector<std::uint8_t> present_;
};

}  // namespace finfuse::data
