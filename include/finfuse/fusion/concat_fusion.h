// Concatenation of the modalities' pooled vectors, each optionally layer-normalised and projected to a common width.
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/pimpl.h>

namespace finfuse::fusion {

struct ConcatFusionOptions {
#define FINFUSE_CONCAT_FUSION_FIELDS(F)                                                                      \
  F(bool, layer_norm, false, FieldRule(), "layer norm on each modality's vector before concatenation")     \
  F(std::int64_t, projection, 0, Range::non_negative(),                                                     \
    "width of a linear projection of each modality (0: none, the vectors are concatenated as they are)")    \
  F(double, dropout, 0.0, Range::half_open(0, 1), "dropout on the concatenation")
  FINFUSE_OPTIONS(ConcatFusionOptions, FINFUSE_CONCAT_FUSION_FIELDS)
#undef FINFUSE_CONCAT_FUSION_FIELDS
};

class ConcatFusionImpl : public Fusion {
 public:
  ConcatFusionImpl(const ConcatFusionOptions& options, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override;
  Json options_json() const override { return typed_json("concat", options_.to_json()); }

 private:
  ConcatFusionOptions options_;
  torch::nn::ModuleDict norms_{nullptr};
  torch::nn::ModuleDict projections_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};

TORCH_MODULE(ConcatFusion);

}  // namespace finfuse::fusion
