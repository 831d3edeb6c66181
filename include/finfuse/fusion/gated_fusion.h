// Gated multimodal unit (Arevalo et al., 2017), for any number of modalities: each modality is mapped to
// h_m = tanh(W_m x_m); gates computed from all modalities together weigh them, z_m = gate(W_z [x_1; ...; x_M]);
// the fused vector is sum_m z_m * h_m. Inspection: "gates" [B, M], each modality's gate averaged over the hidden
// units, and "gate_values" [B, M, H].
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace finfuse::fusion {

struct GatedFusionOptions {
#define FINFUSE_GATED_FUSION_FIELDS(F)                                                                        \
  F(std::int64_t, hidden, 64, Range::positive(), "width of each modality's transform and of the output")    \
  F(std::string, gate, "softmax", FieldRule::one_of({"softmax", "sigmoid"}),                                 \
    "\"softmax\" (the gates of a hidden unit sum to 1 across modalities) or \"sigmoid\" (independent gates, " \
    "as in the original two-modality unit, z and 1 - z, generalised)")                                      \
  F(double, dropout, 0.0, Range::half_open(0, 1), "dropout on the fused vector")
  FINFUSE_OPTIONS(GatedFusionOptions, FINFUSE_GATED_FUSION_FIELDS)
#undef FINFUSE_GATED_FUSION_FIELDS
};

class GatedFusionImpl : public Fusion {
 public:
  GatedFusionImpl(const GatedFusionOptions& options, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override { return options_.hidden(); }
  Json options_json() const override { return typed_json("gated", options_.to_json()); }

 private:
  GatedFusionOptions options_;
  torch::nn::ModuleDict transforms_{nullptr};
  torch::nn::Linear gate_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};

TORCH_MODULE(GatedFusion);

}  // namespace finfuse::fusion
