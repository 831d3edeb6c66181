// This project's finfuse components, registered by name so that configurations, bundles and the predictor can name
// them: modality "quantile_bins", encoder "feature_gate", fusion "max", head "cosine", metric "capture".
#pragma once

namespace extension {

void register_extension();

}  // namespace extension
