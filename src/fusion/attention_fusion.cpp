#include "finfuse/fusion/attention_fusion.h"
#include "finfuse/fusion/cross_attention_fusion.h"

#include "finfuse/core/check.h"
#include "finfuse/nn/attention.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <fmt/format.h>

#include <tuple>

namespace finfuse::fusion {
namespace {

// Pre-norm transformer layer: x + attention(norm(x)), then x + feedforward(norm(x)).
class FusionLayerImpl : public torch::nn::Module {
 public:
  FusionLayerImpl(std::int64_t hidden, std::int64_t heads, std::int64_t feedforward, double dropout) {
    attention_norm_ = register_module("attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
    attention_ = register_module("attention", nn::MultiHeadAttention(hidden, heads, dropout));
    feedforward_norm_ =
        register_module("feedforward_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
    intermediate_ = register_module("intermediate", torch::nn::Linear(hidden, feedforward));
    output_ = register_module("output", torch::nn::Linear(feedforward, hidden));
    dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
  }

  // x [B, T, H], mask [B, T] bool; returns the new states and the attention weights [B, heads, T, T].
  std::pair<torch::Tensor, torch::Tensor> forward(torch::Tensor x, const torch::Tensor& mask) {
    const auto normed = attention_norm_->forward(x);
    auto attended = attention_->forward(normed, normed, normed, mask);
    x = x + dropout_->forward(attended.output);
    const auto hidden = torch::gelu(intermediate_->forward(feedforward_norm_->forward(x)));
    x = x + dropout_->forward(output_->forward(hidden));
    return {x, attended.weights};
  }

 private:
  torch::nn::LayerNorm attention_norm_{nullptr};
  nn::MultiHeadAttention attention_{nullptr};
  torch::nn::LayerNorm feedforward_norm_{nullptr};
  torch::nn::Linear intermediate_{nullptr};
  torch::nn::Linear output_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};

TORCH_MODULE(FusionLayer);

void check_heads(const Config& config, std::int64_t hidden, std::int64_t heads) {
  if (hidden % heads != 0) {
    config.fail_at("heads", fmt::format("hidden ({}) must be divisible by heads ({})", hidden, heads));
  }
}

}  // namespace

// ------------------------------------------------------------------------------------------------ modality tokens

void AttentionFusionOptions::validate(const Config& config) const { check_heads(config, hidden(), heads()); }

AttentionFusionImpl::AttentionFusionImpl(const AttentionFusionOptions& options, std::vector<FusionModality> modalities)
    : Fusion(std::move(modalities)), options_(options) {
  projections_ = register_module("projection", torch::nn::ModuleDict());
  for (const auto& m : this->modalities()) {
    projections_->update({{m.name, torch::nn::Linear(m.size, options_.hidden()).ptr()}});
  }
  const auto count = static_cast<std::int64_t>(this->modalities().size());
  modality_embedding_ = register_parameter("modality_embedding", torch::randn({count, options_.hidden()}) * 0.02);
  fusion_token_ = register_parameter("fusion_token", torch::randn({options_.hidden()}) * 0.02);
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t l = 0; l < options_.layers(); ++l) {
    layers_->push_back(FusionLayer(options_.hidden(), options_.heads(), options_.feedforward(), options_.dropout()));
  }
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options_.hidden()})));
}

FusionOutput AttentionFusionImpl::fuse(const FusionInput& input) {
  check_input(input);
  const std::int64_t batch = input.modalities[0].pooled.size(0);
  std::vector<torch::Tensor> tokens = {fusion_token_.view({1, 1, -1}).expand({batch, 1, options_.hidden()})};
  std::vector<torch::Tensor> mask = {torch::ones({batch, 1}, input.modalities[0].present.options().dtype(torch::kBool))};
  for (std::size_t m = 0; m < modalities().size(); ++m) {
    const auto projected =
        projections_[modalities()[m].name]->as<torch::nn::LinearImpl>()->forward(input.modalities[m].pooled);
    tokens.push_back((projected + modality_embedding_[static_cast<std::int64_t>(m)]).unsqueeze(1));
    mask.push_back(input.modalities[m].present.to(torch::kBool).unsqueeze(1));
  }
  auto x = torch::cat(tokens, 1);
  const auto key_mask = torch::cat(mask, 1);
  torch::Tensor weights;
  for (const auto& layer : *layers_) {
    std::tie(x, weights) = layer->as<FusionLayerImpl>()->forward(x, key_mask);
  }
  FusionOutput out;
  out.fused = norm_->forward(x.select(1, 0));
  out.inspection["attention"] = weights.select(2, 0).mean(1).detach();  // fusion token's row, averaged over heads
  return out;
}

// ------------------------------------------------------------------------------------------------ cross attention

void CrossAttentionFusionOptions::validate(const Config& config) const {
  if (query() == context()) {
    config.fail_at("context", "must differ from the query modality");
  }
  check_heads(config, hidden(), heads());
}

CrossAttentionFusionImpl::CrossAttentionFusionImpl(const CrossAttentionFusionOptions& options, std::vector<FusionModality> modalities)
    : CrossAttentionFusionImpl(Config(options.to_json()), std::move(modalities)) {}

CrossAttentionFusionImpl::CrossAttentionFusionImpl(const Config& config, std::vector<FusionModality> modalities)
    : Fusion(std::move(modalities)), options_(CrossAttentionFusionOptions::from_config(config)) {
  query_ = modality_index(config, "query", options_.query());
  context_ = modality_index(config, "context", options_.context());
  // Queries and keys are the modalities' tokens where their encoders have them, their pooled vectors otherwise.
  const auto width = [](const FusionModality& m) { return m.has_tokens ? m.tokens_width() : m.size; };
  attention_ = register_module("attention", nn::MultiHeadAttention(options_.hidden(), options_.heads(), options_.dropout(),
                                                                   width(this->modalities()[query_]),
                                                                   width(this->modalities()[context_])));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options_.hidden()})));
  no_context_ = register_parameter("no_context", torch::randn({options_.hidden()}) * 0.02);
}

FusionOutput CrossAttentionFusionImpl::fuse(const FusionInput& input) {
  check_input(input);
  const auto& q = input.modalities[query_];
  const auto& c = input.modalities[context_];
  const bool query_tokens = q.tokens.defined();
  const auto query = query_tokens ? q.tokens : q.pooled.unsqueeze(1);
  const auto context = c.tokens.defined() ? c.tokens : c.pooled.unsqueeze(1);
  auto context_mask = c.tokens.defined() ? c.token_mask.to(torch::kBool)
                                         : torch::ones({context.size(0), 1}, c.present.options().dtype(torch::kBool));
  const auto present = c.present.to(torch::kBool);
  context_mask = context_mask.logical_and(present.unsqueeze(1));
  const auto result = attention_->forward(query, context, context, context_mask);
  torch::Tensor attended = result.output;  // [B, Tq, H]
  if (query_tokens) {
    const auto w = q.token_mask.to(attended.scalar_type()).unsqueeze(-1);
    attended = (attended * w).sum(1) / w.sum(1).clamp_min(1.0);
  } else {
    attended = attended.squeeze(1);
  }
  // Samples with no context at all (the modality absent, or no real token) get the learned "no context" vector.
  const auto has_context = context_mask.any(1).unsqueeze(1);
  attended = torch::where(has_context, norm_->forward(attended), no_context_.unsqueeze(0).expand_as(attended));
  std::vector<torch::Tensor> parts = {attended};
  for (const auto& m : input.modalities) {
    parts.push_back(m.pooled);
  }
  FusionOutput out;
  out.fused = torch::cat(parts, 1);
  out.inspection["attention"] = result.weights.mean(1).detach();
  return out;
}

}  // namespace finfuse::fusion
