#include "finfuse/fusion/graph_fusion.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/nn/activation.h"
#include "finfuse/nn/graph_layers.h"

#include <fmt/format.h>

namespace finfuse::fusion {

void GraphFusionOptions::validate(const Config& config) const {
  if (!entity().is_object()) {
    config.fail_at("entity", "expected a fusion configuration (an object with \"type\"), got " +
                                 detail::describe(entity()));
  }
  if (layer() == "gat" && hidden() % heads() != 0) {
    config.fail_at("heads", fmt::format("hidden ({}) must be divisible by heads ({})", hidden(), heads()));
  }
  nn::read_activation(config, "activation", activation());
}

GraphFusionImpl::GraphFusionImpl(const GraphFusionOptions& options, std::vector<FusionModality> modalities)
    : GraphFusionImpl(Config(options.to_json()), std::move(modalities)) {}

GraphFusionImpl::GraphFusionImpl(const Config& config, std::vector<FusionModality> modalities)
    : Fusion(std::move(modalities)), options_(GraphFusionOptions::from_config(config)) {
  const auto entity_config = config.find_child("entity");
  const Config entity = entity_config ? *entity_config : Config(options_.entity());
  if (entity.get<std::string>("type") == "graph") {
    entity.fail_at("type", "the per-entity fusion cannot itself be a graph fusion");
  }
  entity_ = register_module("entity", make_fusion(entity, this->modalities()));
  options_.entity() = entity_->options_json();
  layers_ = register_module("layers", torch::nn::ModuleList());
  std::int64_t width = entity_->output_size();
  for (std::int64_t l = 0; l < options_.layers(); ++l) {
    if (options_.layer() == "sage") {
      layers_->push_back(nn::SageConv(width, options_.hidden(), options_.aggregator()));
    } else {
      layers_->push_back(nn::GatConv(width, options_.heads(), options_.hidden() / options_.heads(), options_.dropout()));
    }
    width = options_.hidden();
  }
  activation_ = nn::make_activation(options_.activation());
  dropout_ = register_module("dropout", torch::nn::Dropout(options_.dropout()));
}

std::int64_t GraphFusionImpl::output_size() const {
  return options_.hidden() + (options_.skip() ? entity_->output_size() : 0);
}

FusionOutput GraphFusionImpl::fuse(const FusionInput& input) {
  if (!input.edge_index.defined()) {
    throw Error(
        "graph fusion needs the batch's relation graph: build the dataset with a graph (data.dataset.graph.kind "
        "'edges' or 'correlation') and use cross-sectional batches (one decision day per batch)");
  }
  auto entity = entity_->fuse(input);
  FusionOutput out;
  for (auto& [key, value] : entity.inspection) {
    out.inspection["entity." + key] = value;
  }
  auto x = entity.fused;
  for (std::size_t l = 0; l < layers_->size(); ++l) {
    if (options_.layer() == "sage") {
      x = layers_[l]->as<nn::SageConvImpl>()->forward(x, input.edge_index, input.edge_weight);
    } else {
      auto result = layers_[l]->as<nn::GatConvImpl>()->forward_with_attention(x, input.edge_index);
      x = result.output;
      if (l + 1 == layers_->size()) {
        out.inspection["edge_attention"] = result.attention.mean(1).detach();
        out.inspection["edges"] = result.edges;
      }
    }
    x = dropout_->forward(activation_.forward(x));
  }
  out.fused = options_.skip() ? torch::cat({x, entity.fused}, 1) : x;
  return out;
}

}  // namespace finfuse::fusion
