// Cross-modal attention: one modality (the query, e.g. the price series) attends over another's token sequence (the
// context, e.g. the day's tweets). The query is the query modality's token sequence when its encoder has one (the
// attended result is averaged over its real tokens) or its pooled vector; the context is the context modality's
// tokens, or its pooled vector as a single token. A sample without the context modality gets a learned "no context"
// vector. The fused vector is [attended context, the pooled vector of every modality]. Inspection: "attention"
// [B, Tq, Tk], averaged over heads.
//
// With "neighbours", a query also sees other samples' context tokens: every sample of its decision day ("day"), or its
// in-neighbours in the batch's relation graph as of that day ("graph"); e.g. each stock's price state attends to its
// own and its related stocks' recent tweets. The layer then needs one decision day per batch ("batching":
// "cross_sectional"), and the inspection's keys are the batch's samples' tokens in order: [B, Tq, B x Tk].
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/fusion/fusion.h"
#include "finfuse/nn/attention.h"

#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace finfuse::fusion {

struct CrossAttentionFusionOptions {
#define FINFUSE_CROSS_ATTENTION_FUSION_FIELDS(F)                                                       \
  F(std::string, query, "", FieldRule::required(), "the modality whose tokens ask")                    \
  F(std::string, context, "", FieldRule::required(), "the modality they attend to (another one)")      \
  F(std::int64_t, hidden, 64, Range::positive(), "attention width")                                    \
  F(std::int64_t, heads, 4, Range::positive(), "attention heads; must divide hidden")                  \
  F(double, dropout, 0.1, Range::half_open(0, 1), "dropout")                                           \
  F(std::string, neighbours, "self", FieldRule::one_of({"self", "day", "graph"}),                      \
    "whose context a query sees: its own sample's (self), every sample's of its decision day (day), or its own " \
    "and its in-neighbours' in the batch's relation graph (graph)")
  FINFUSE_OPTIONS(CrossAttentionFusionOptions, FINFUSE_CROSS_ATTENTION_FUSION_FIELDS)
#undef FINFUSE_CROSS_ATTENTION_FUSION_FIELDS

 public:
  /// Two different modalities; heads divides hidden.
  void validate(const Config& config) const;
};

class CrossAttentionFusionImpl : public Fusion {
 public:
  CrossAttentionFusionImpl(const Config& config, std::vector<FusionModality> modalities);
  /// From typed options; a modality they name that `modalities` lacks is a ConfigError at its key.
  CrossAttentionFusionImpl(const CrossAttentionFusionOptions& options, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override { return options_.hidden() + total_size(); }
  Json options_json() const override { return typed_json("cross_attention", options_.to_json()); }
  bool uses_graph() const override { return options_.neighbours() == "graph"; }
  bool cross_sectional() const override { return options_.neighbours() != "self"; }

 private:
  CrossAttentionFusionOptions options_;
  std::size_t query_ = 0;
  std::size_t context_ = 0;
  nn::MultiHeadAttention attention_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::Tensor no_context_;
};

TORCH_MODULE(CrossAttentionFusion);

}  // namespace finfuse::fusion
