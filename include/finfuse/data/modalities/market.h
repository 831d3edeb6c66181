// The "market" modality: a market index's window of price features (the price modality's features, from the
// data.market series), ending at the index's last bar on or before the day of the sample's own last bar, so that a
// stock's window and its market context end together and neither reaches past the decision. [L, F], the same for
// every sample of a decision day; absent where the index has fewer than L bars by then.
#pragma once

#include "finfuse/data/modalities/price.h"

namespace finfuse::data {

class MarketModality : public PriceModality {
 public:
  /// Uses options.price; the window length is the sample set's.
  explicit MarketModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;
};

}  // namespace finfuse::data
