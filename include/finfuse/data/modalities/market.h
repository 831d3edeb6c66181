// The "market" modality: a market index's window of price features (the price modality's features, from the
// data.market series), ending at the index's last bar on or before the day of the sample's own last bar, so that a
// stock's window and its market context end together and neither reaches past the decision. [L, F], the same for
// every sample of a decision day; absent where the index has fewer than L bars by then.
#pragma once

#include "finfuse/data/modality.h"
#include "finfuse/data/price_features.h"

#include <cstdint>
#include <vector>

namespace finfuse::data {

class MarketModality : public Modality {
 public:
  /// Uses options.price; the window length is the sample set's.
  explicit MarketModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;
  std::vector<ModalitySpec> specs() const override;
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override;
  double coverage() const override { return fraction_present(present_); }
  void save(BinaryWriter& out) const override;
  void load(BinaryReader& in, std::size_t samples) override;

 private:
  PriceWindowOptions options_;
  std::int64_t window_ = 0;
  std::vector<float> values_;  // [N, L, F]
  std::vector<std::uint8_t> present_;
};

}  // namespace finfuse::data
