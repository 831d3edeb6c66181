#include "finfuse/fusion/attention_fusion.h"
#include "finfuse/fusion/cross_attention_fusion.h"
#include "finfuse/fusion/cross_section_fusion.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
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

namespace {

// Which samples' context each sample sees: [B, B] bool, row i = the samples whose tokens sample i may attend to.
torch::Tensor visible_samples(const FusionInput& input, const std::string& neighbours, std::int64_t batch,
                              const torch::TensorOptions& options) {
  const auto bools = options.dtype(torch::kBool);
  if (neighbours == "day") {
    if (!input.day.defined()) {
      throw Error(
          "cross-attention over the day's samples (\"neighbours\": \"day\") needs each sample's decision day; the "
          "samples carry no decision times");
    }
    const auto day = input.day.to(options.device(), torch::kInt64);
    return day.unsqueeze(1).eq(day.unsqueeze(0));
  }
  if (!input.edge_index.defined()) {
    throw Error(
        "cross-attention over graph neighbours (\"neighbours\": \"graph\") needs the batch's relation graph: build "
        "the dataset with a graph (data.dataset.graph.kind 'edges' or 'correlation') and use cross-sectional batches "
        "(one decision day per batch)");
  }
  auto visible = torch::eye(batch, bools);
  const auto edges = input.edge_index.to(options.device(), torch::kInt64);
  if (edges.numel() > 0) {
    // Messages flow from source to target: the target sees the source's texts.
    visible.index_put_({edges[1], edges[0]}, torch::ones({edges.size(1)}, bools));
  }
  return visible;
}

}  // namespace

FusionOutput CrossAttentionFusionImpl::fuse(const FusionInput& input) {
  check_input(input);
  const auto& q = input.modalities[query_];
  const auto& c = input.modalities[context_];
  const bool query_tokens = q.tokens.defined();
  auto query = query_tokens ? q.tokens : q.pooled.unsqueeze(1);
  auto context = c.tokens.defined() ? c.tokens : c.pooled.unsqueeze(1);
  auto context_mask = c.tokens.defined() ? c.token_mask.to(torch::kBool)
                                         : torch::ones({context.size(0), 1}, c.present.options().dtype(torch::kBool));
  const auto present = c.present.to(torch::kBool);
  context_mask = context_mask.logical_and(present.unsqueeze(1));
  const std::int64_t b = query.size(0);
  const std::int64_t tq = query.size(1);
  const std::int64_t tc = context.size(1);
  torch::Tensor attended;  // [B, Tq, H]
  torch::Tensor weights;   // [B, Tq, keys]
  torch::Tensor has_context;
  if (options_.neighbours() == "self") {
    const auto result = attention_->forward(query, context, context, context_mask);
    attended = result.output;
    weights = result.weights.mean(1);
    has_context = context_mask.any(1);
  } else {
    // One sequence of every sample's tokens; each sample's queries see the tokens of the samples visible to it.
    const auto visible = visible_samples(input, options_.neighbours(), b, context_mask.options());  // [B, B]
    const auto tokens = visible.unsqueeze(2).logical_and(context_mask.unsqueeze(0)).reshape({b, b * tc});
    const auto mask = tokens.unsqueeze(1).expand({b, tq, b * tc}).reshape({1, b * tq, b * tc});
    const auto result = attention_->forward(query.reshape({1, b * tq, query.size(2)}),
                                            context.reshape({1, b * tc, context.size(2)}),
                                            context.reshape({1, b * tc, context.size(2)}), mask);
    attended = result.output.view({b, tq, -1});
    weights = result.weights.mean(1).view({b, tq, b * tc});
    has_context = tokens.any(1);
  }
  if (query_tokens) {
    const auto w = q.token_mask.to(attended.scalar_type()).unsqueeze(-1);
    attended = (attended * w).sum(1) / w.sum(1).clamp_min(1.0);
  } else {
    attended = attended.squeeze(1);
  }
  // Samples with no context at all (the modality absent, or no real token) get the learned "no context" vector.
  attended = torch::where(has_context.unsqueeze(1), norm_->forward(attended),
                          no_context_.unsqueeze(0).expand_as(attended));
  std::vector<torch::Tensor> parts = {attended};
  for (const auto& m : input.modalities) {
    parts.push_back(m.pooled);
  }
  FusionOutput out;
  out.fused = torch::cat(parts, 1);
  out.inspection["attention"] = weights.detach();
  return out;
}

// ------------------------------------------------------------------------------------------- across the day's stocks

void CrossSectionFusionOptions::validate(const Config& config) const {
  if (!entity().is_object()) {
    config.fail_at("entity", "expected a fusion configuration (an object with \"type\"), got " +
                                 detail::describe(entity()));
  }
  check_heads(config, hidden(), heads());
  if (market() == "none" && combine() != "token") {
    config.fail_at("combine", fmt::format("\"{}\" adds a market context, but \"market\" is \"none\"", combine()));
  }
}

CrossSectionFusionImpl::CrossSectionFusionImpl(const CrossSectionFusionOptions& options,
                                               std::vector<FusionModality> modalities)
    : CrossSectionFusionImpl(Config(options.to_json()), std::move(modalities)) {}

CrossSectionFusionImpl::CrossSectionFusionImpl(const Config& config, std::vector<FusionModality> modalities)
    : Fusion(std::move(modalities)), options_(CrossSectionFusionOptions::from_config(config)) {
  if (options_.market() != "mean" && options_.market() != "none") {
    market_ = modality_index(config, "market", options_.market());
  }
  std::vector<FusionModality> entity_modalities;
  for (std::size_t m = 0; m < this->modalities().size(); ++m) {
    if (market_ != m) {
      entity_modalities_.push_back(m);
      entity_modalities.push_back(this->modalities()[m]);
    }
  }
  if (entity_modalities.empty()) {
    config.fail_at("market", fmt::format("'{}' is the only modality; the stocks need one of their own", options_.market()));
  }
  const auto entity_config = config.find_child("entity");
  const Config entity = entity_config ? *entity_config : Config(options_.entity());
  if (entity.get<std::string>("type") == "cross_section") {
    entity.fail_at("type", "the per-entity fusion cannot itself be a cross-section fusion");
  }
  entity_ = register_module("entity", make_fusion(entity, entity_modalities));
  options_.entity() = entity_->options_json();
  const std::int64_t hidden = options_.hidden();
  project_ = register_module("project", torch::nn::Linear(entity_->output_size(), hidden));
  input_norm_ = register_module("input_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  if (market_) {
    market_project_ = register_module("market_project", torch::nn::Linear(this->modalities()[*market_].size, hidden));
    no_market_ = register_parameter("no_market", torch::randn({hidden}) * 0.02);
  }
  if (options_.market() != "none" && options_.combine() != "add") {
    market_embedding_ = register_parameter("market_embedding", torch::randn({hidden}) * 0.02);
  }
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t l = 0; l < options_.layers(); ++l) {
    layers_->push_back(FusionLayer(hidden, options_.heads(), options_.feedforward(), options_.dropout()));
  }
  output_norm_ = register_module("output_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
}

std::int64_t CrossSectionFusionImpl::output_size() const {
  return options_.hidden() + (options_.skip() ? entity_->output_size() : 0);
}

FusionOutput CrossSectionFusionImpl::fuse(const FusionInput& input) {
  check_input(input);
  check_one_day(input, "cross-section fusion");
  FusionInput own;
  for (const auto m : entity_modalities_) {
    own.modalities.push_back(input.modalities[m]);
  }
  own.edge_index = input.edge_index;
  own.edge_weight = input.edge_weight;
  own.day = input.day;
  auto entity = entity_->fuse(own);
  FusionOutput out;
  for (auto& [key, value] : entity.inspection) {
    out.inspection["entity." + key] = value;
  }
  auto stocks = input_norm_->forward(project_->forward(entity.fused));  // [B, H]
  torch::Tensor market;                                                // [H]
  if (market_) {
    const auto& m = input.modalities[*market_];
    const auto present = m.present.to(torch::kBool);
    // Every sample of the day carries the same market inputs; the average over those that have them is that vector.
    const auto weights = present.to(m.pooled.scalar_type()).unsqueeze(1);
    const auto count = weights.sum();
    const auto pooled = (m.pooled * weights).sum(0) / count.clamp_min(1.0);
    const auto projected = market_project_->forward(pooled);
    market = torch::where(count > 0, projected, no_market_.to(projected.scalar_type()));
  } else if (options_.market() == "mean") {
    market = stocks.mean(0);
  }
  if (market.defined() && options_.combine() != "token") {
    stocks = stocks + options_.beta() * market.unsqueeze(0);
  }
  const bool token = market.defined() && options_.combine() != "add";
  auto x = token ? torch::cat({(market + market_embedding_).unsqueeze(0), stocks}, 0) : stocks;
  x = x.unsqueeze(0);  // one sequence: the day's stocks
  torch::Tensor weights;
  for (const auto& layer : *layers_) {
    std::tie(x, weights) = layer->as<FusionLayerImpl>()->forward(x, torch::Tensor());
  }
  const std::int64_t offset = token ? 1 : 0;
  const auto own_tokens = output_norm_->forward(x.squeeze(0).narrow(0, offset, stocks.size(0)));
  out.fused = options_.skip() ? torch::cat({own_tokens, entity.fused}, 1) : own_tokens;
  out.inspection["stock_attention"] = weights.squeeze(0).mean(0).narrow(0, offset, stocks.size(0)).detach();
  return out;
}

}  // namespace finfuse::fusion
