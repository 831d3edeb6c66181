// Attention across modalities: each modality's pooled vector is projected to a common width and, with a learned
// modality embedding, becomes a token; a learned fusion token joins them; transformer layers (pre-norm, multi-head
// self-attention, GELU feed-forward) attend across the tokens with absent modalities masked out, and the fusion
// token's final state is the fused vector. Inspection: "attention" [B, M + 1], the fusion token's attention (last
// layer, averaged over heads) over [fusion token, modality 1, ..., modality M].
#pragma once

#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>

namespace finfuse::fusion {

struct AttentionFusionOptions {
  std::int64_t hidden = 64;
  std::int64_t heads = 4;
  std::int64_t layers = 1;
  std::int64_t feedforward = 128;
  double dropout = 0.1;

  static AttentionFusionOptions from_config(const Config& config);
  Json to_json() const;
};

class AttentionFusionImpl : public Fusion {
 public:
  AttentionFusionImpl(const AttentionFusionOptions& options, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override { return options_.hidden; }
  Json options_json() const override { return options_.to_json(); }

 private:
  AttentionFusionOptions options_;
  torch::nn::ModuleDict projections_{nullptr};
  torch::Tensor modality_embedding_;
  torch::Tensor fusion_token_;
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
};

}  // namespace finfuse::fusion
