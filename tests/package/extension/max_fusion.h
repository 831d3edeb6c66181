// A fusion layer defined outside finfuse: each modality projected to a common width, then the element-wise maximum
// over the modalities present in a sample.
#pragma once

#include <finfuse/core/options.h>
#include <finfuse/fusion/fusion.h>

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

namespace extension {

struct MaxFusionOptions {
#define EXTENSION_MAX_FUSION_FIELDS(F) \
  F(std::int64_t, width, 32, ::finfuse::Range::closed(1, 4096), "the common width the modalities are projected to")
  FINFUSE_OPTIONS(MaxFusionOptions, EXTENSION_MAX_FUSION_FIELDS)
#undef EXTENSION_MAX_FUSION_FIELDS
};

class MaxFusionImpl : public finfuse::fusion::Fusion {
 public:
  MaxFusionImpl(MaxFusionOptions options, std::vector<finfuse::fusion::FusionModality> modalities);

  finfuse::fusion::FusionOutput fuse(const finfuse::fusion::FusionInput& input) override;
  std::int64_t output_size() const override { return options_.width(); }
  finfuse::Json options_json() const override;

 private:
  MaxFusionOptions options_;
  torch::nn::ModuleList projections_;
};
TORCH_MODULE(MaxFusion);

}  // namespace extension
