#include "max_fusion.h"

#include <torch/nn/modules/linear.h>

#include <limits>

namespace extension {

MaxFusionImpl::MaxFusionImpl(MaxFusionOptions options, std::vector<finfuse::fusion::FusionModality> modalities)
    : Fusion(std::move(modalities)), options_(std::move(options)) {
  projections_ = register_module("projections", torch::nn::ModuleList());
  for (const auto& m : this->modalities()) {
    projections_->push_back(torch::nn::Linear(m.size, options_.width()));
  }
}

finfuse::fusion::FusionOutput MaxFusionImpl::fuse(const finfuse::fusion::FusionInput& input) {
  check_input(input);
  std::vector<torch::Tensor> projected;
  for (std::size_t m = 0; m < input.modalities.size(); ++m) {
    const auto& features = input.modalities[m];
    auto p = projections_[m]->as<torch::nn::Linear>()->forward(features.pooled);
    // An absent modality takes no part in the maximum.
    p = p.masked_fill(features.present.logical_not().unsqueeze(1), -std::numeric_limits<float>::infinity());
    projected.push_back(p);
  }
  auto fused = std::get<0>(torch::stack(projected, 1).max(1));
  finfuse::fusion::FusionOutput out;
  out.fused = torch::nan_to_num(fused, 0.0, 0.0, 0.0);  // a sample without any modality: zeros
  return out;
}

finfuse::Json MaxFusionImpl::options_json() const { return finfuse::typed_json("max", options_.to_json()); }

}  // namespace extension
