// Graph fusion over the entity graph: a per-entity fusion (any fusion layer; concat by default) gives each sample of
// a cross-sectional batch a vector, then GraphSAGE or GAT layers pass messages along the batch's relation graph as of
// its decision day (as MAN-SF does with GAT). The fused vector is the graph layers' output, with the per-entity
// vector concatenated when "skip" is on. Inspection: the per-entity fusion's entries prefixed "entity.", and for GAT
// "edge_attention" [E + B] (last layer, averaged over heads; edges as in "edges" [2, E + B], self-loops last).
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/pimpl.h>

namespace finfuse::fusion {

struct GraphFusionOptions {
#define FINFUSE_GRAPH_FUSION_FIELDS(F)                                                                         \
  F(Json, entity, (Json{{"type", "concat"}}), FieldRule(),                                                    \
    "the per-entity fusion's options (a fusion configuration with \"type\")")                                  \
  F(std::string, layer, "sage", FieldRule::one_of({"sage", "gat"}), "graph layer: GraphSAGE or GAT")          \
  F(std::string, aggregator, "mean", FieldRule::one_of({"mean", "max_pool"}), "GraphSAGE's neighbour aggregator") \
  F(std::int64_t, layers, 1, Range::closed(1, 2), "graph layers")                                             \
  F(std::int64_t, hidden, 64, Range::positive(), "output width of each graph layer (for GAT: heads x head size)") \
  F(std::int64_t, heads, 4, Range::positive(), "GAT: attention heads; must divide hidden")                   \
  F(double, dropout, 0.0, Range::half_open(0, 1), "dropout")                                                  \
  F(bool, skip, true,  FieldRule(),                                                                           \
    "concatenate the per-entity vector to the graph output (keeps what isolated entities know)")             \
  F(std::string, activation, "elu", FieldRule(), "a registered activation")
  FINFUSE_OPTIONS(GraphFusionOptions, FINFUSE_GRAPH_FUSION_FIELDS)
#undef FINFUSE_GRAPH_FUSION_FIELDS

 public:
  /// entity is an object; GAT's heads divide hidden; a registered activation.
  void validate(const Config& config) const;
};

class GraphFusionImpl : public Fusion {
 public:
  GraphFusionImpl(const Config& config, std::vector<FusionModality> modalities);
  /// From typed options; a modality they name that `modalities` lacks is a ConfigError at its key.
  GraphFusionImpl(const GraphFusionOptions& options, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override;
  Json options_json() const override { return typed_json("graph", options_.to_json()); }
  bool uses_graph() const override { return true; }

 private:
  GraphFusionOptions options_;
  std::shared_ptr<Fusion> entity_;
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::AnyModule activation_;
  torch::nn::Dropout dropout_{nullptr};
};

TORCH_MODULE(GraphFusion);

}  // namespace finfuse::fusion
