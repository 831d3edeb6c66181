// Cross-modal attention: one modality (the query, e.g. the price series) attends over another's token sequence (the
// context, e.g. the day's tweets). The query is the query modality's token sequence when its encoder has one (the
// attended result is averaged over its real tokens) or its pooled vector; the context is the context modality's
// tokens, or its pooled vector as a single token. A sample without the context modality gets a learned "no context"
// vector. The fused vector is [attended context, the pooled vector of every modality]. Inspection: "attention"
// [B, Tq, Tk], averaged over heads.
#pragma once

#include "finfuse/fusion/fusion.h"
#include "finfuse/nn/attention.h"

#include <torch/nn/modules/normalization.h>

namespace finfuse::fusion {

struct CrossAttentionFusionOptions {
  std::string query;
  std::string context;
  std::int64_t hidden = 64;
  std::int64_t heads = 4;
  double dropout = 0.1;

  static CrossAttentionFusionOptions from_config(const Config& config);
  Json to_json() const;
};

class CrossAttentionFusionImpl : public Fusion {
 public:
  CrossAttentionFusionImpl(const Config& config, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override { return options_.hidden + total_size(); }
  Json options_json() const override { return options_.to_json(); }

 private:
  CrossAttentionFusionOptions options_;
  std::size_t query_ = 0;
  std::size_t context_ = 0;
  nn::MultiHeadAttention attention_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::Tensor no_context_;
};

}  // namespace finfuse::fusion
