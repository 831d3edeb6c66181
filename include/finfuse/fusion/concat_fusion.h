// Concatenation of the modalities' pooled vectors, each optionally layer-normalised and projected to a common width.
#pragma once

#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/modules/dropout.h>

namespace finfuse::fusion {

struct ConcatFusionOptions {
  /// Layer norm on each modality's vector before concatenation.
  bool layer_norm = false;
  /// Width of a linear projection of each modality (0: none, the vectors are concatenated as they are).
  std::int64_t projection = 0;
  double dropout = 0.0;

  static ConcatFusionOptions from_config(const Config& config);
  Json to_json() const;
};

class ConcatFusionImpl : public Fusion {
 public:
  ConcatFusionImpl(const ConcatFusionOptions& options, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override;
  Json options_json() const override { return options_.to_json(); }

 private:
  ConcatFusionOptions options_;
  torch::nn::ModuleDict norms_{nullptr};
  torch::nn::ModuleDict projections_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};

}  // namespace finfuse::fusion
