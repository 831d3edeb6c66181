// Graph fusion over the entity graph: a per-entity fusion (any fusion layer; concat by default) gives each sample of
// a cross-sectional batch a vector, then GraphSAGE or GAT layers pass messages along the batch's relation graph as of
// its decision day (as MAN-SF does with GAT). The fused vector is the graph layers' output, with the per-entity
// vector concatenated when "skip" is on. Inspection: the per-entity fusion's entries prefixed "entity.", and for GAT
// "edge_attention" [E + B] (last layer, averaged over heads; edges as in "edges" [2, E + B], self-loops last).
#pragma once

#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>

namespace finfuse::fusion {

struct GraphFusionOptions {
  /// The per-entity fusion's options (a fusion configuration with "type").
  Json entity = Json{{"type", "concat"}};
  /// "sage" or "gat".
  std::string layer = "sage";
  /// GraphSAGE: "mean" or "max_pool".
  std::string aggregator = "mean";
  /// 1 or 2 graph layers.
  std::int64_t layers = 1;
  /// Output width of each graph layer (for GAT: heads x head size).
  std::int64_t hidden = 64;
  std::int64_t heads = 4;
  double dropout = 0.0;
  /// Concatenate the per-entity vector to the graph output (keeps what isolated entities know).
  bool skip = true;
  std::string activation = "elu";

  static GraphFusionOptions from_config(const Config& config);
  Json to_json() const;
};

class GraphFusionImpl : public Fusion {
 public:
  GraphFusionImpl(const Config& config, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override;
  Json options_json() const override { return options_.to_json(); }
  bool uses_graph() const override { return true; }

 private:
  GraphFusionOptions options_;
  std::shared_ptr<Fusion> entity_;
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::AnyModule activation_;
  torch::nn::Dropout dropout_{nullptr};
};

}  // namespace finfuse::fusion
