// Attention across modalities: each modality's pooled vector is projected to a common width and, with a learned
// modality embedding, becomes a token; a learned fusion token joins them; transformer layers (pre-norm, multi-head
// self-attention, GELU feed-forward) attend across the tokens with absent modalities masked out, and the fusion
// token's final state is the fused vector. Inspection: "attention" [B, M + 1], the fusion token's attention (last
// layer, averaged over heads) over [fusion token, modality 1, ..., modality M].
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace finfuse::fusion {

struct AttentionFusionOptions {
#define FINFUSE_ATTENTION_FUSION_FIELDS(F)                                               \
  F(std::int64_t, hidden, 64, Range::positive(), "token width")                         \
  F(std::int64_t, heads, 4, Range::positive(), "attention heads; must divide hidden")  \
  F(std::int64_t, layers, 1, Range::positive(), "transformer layers over the tokens")  \
  F(std::int64_t, feedforward, 128, Range::positive(), "width of the feed-forward layer") \
  F(double, dropout, 0.1, Range::half_open(0, 1), "dropout")
  FINFUSE_OPTIONS(AttentionFusionOptions, FINFUSE_ATTENTION_FUSION_FIELDS)
#undef FINFUSE_ATTENTION_FUSION_FIELDS

 public:
  /// heads divides hidden.
  void validate(const Config& config) const;
};

class AttentionFusionImpl : public Fusion {
 public:
  AttentionFusionImpl(const AttentionFusionOptions& options, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override { return options_.hidden(); }
  Json options_json() const override { return typed_json("attention", options_.to_json()); }

 private:
  AttentionFusionOptions options_;
  torch::nn::ModuleDict projections_{nullptr};
  torch::Tensor modality_embedding_;
  torch::Tensor fusion_token_;
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
};

TORCH_MODULE(AttentionFusion);

}  // namespace finfuse::fusion
