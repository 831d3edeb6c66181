// Message passing over a graph given as an edge list: GraphSAGE (Hamilton et al., 2017) with mean and max-pool
// aggregators, and the graph attention layer GAT (Velickovic et al., 2018). Nodes are the rows of x; edge e carries a
// message from edge_index[0][e] (source) to edge_index[1][e] (target). Both layers are permutation equivariant, give
// isolated nodes a well-defined output, and accept self-loops in the input.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace finfuse::nn {

/// h'_i = W_self h_i + W_neighbour agg_i (+ bias), optionally L2-normalised.
/// "mean": agg_i = sum_j w_ji h_j / sum_j w_ji over the edges j -> i (edge weights default to 1);
/// "max_pool": agg_i = max_j relu(W_pool h_j + b_pool), element-wise (edge weights are not used).
/// A node without incoming edges aggregates to zero. Parameters: self.{weight,bias}, neighbour.weight, and
/// pool.{weight,bias} for max_pool.
class SageConvImpl : public torch::nn::Cloneable<SageConvImpl> {
 public:
  SageConvImpl(std::int64_t in_features, std::int64_t out_features, std::string aggregator = "mean",
               bool normalize = false);

  void reset() override;

  /// x [N, in], edge_index [2, E] int64, edge_weight [E] (optional) -> [N, out].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& edge_index, const torch::Tensor& edge_weight = {});

  std::int64_t out_features() const { return out_features_; }

 private:
  std::int64_t in_features_;
  std::int64_t out_features_;
  std::string aggregator_;
  bool normalize_;
  torch::nn::Linear self_{nullptr};
  torch::nn::Linear neighbour_{nullptr};
  torch::nn::Linear pool_{nullptr};
};

TORCH_MODULE(SageConv);

struct GatResult {
  /// [N, heads * head_size]
  torch::Tensor output;
  /// [E + N, heads]: the attention of each edge of `edges` (the input's edges without self-loops, then one self-loop
  /// per node), softmax-normalised over each target's incoming edges.
  torch::Tensor attention;
  /// [2, E + N]
  torch::Tensor edges;
};

/// z_i = W h_i split into heads; e_ji = LeakyReLU(a_src . z_j + a_dst . z_i, 0.2) for every edge j -> i and a
/// self-loop i -> i; alpha = softmax of e over i's incoming edges; h'_i = concat_heads(sum_j alpha_ji z_j) + bias.
/// Self-loops in the input are replaced by exactly one per node, so isolated nodes attend to themselves.
/// Parameters: linear.weight, attention_source and attention_target [heads, head_size], bias.
class GatConvImpl : public torch::nn::Cloneable<GatConvImpl> {
 public:
  GatConvImpl(std::int64_t in_features, std::int64_t heads, std::int64_t head_size, double dropout = 0.0,
              double negative_slope = 0.2);

  void reset() override;

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& edge_index);
  GatResult forward_with_attention(const torch::Tensor& x, const torch::Tensor& edge_index);

  std::int64_t out_features() const { return heads_ * head_size_; }

 private:
  std::int64_t in_features_;
  std::int64_t heads_;
  std::int64_t head_size_;
  double dropout_p_;
  double negative_slope_;
  torch::nn::Linear linear_{nullptr};
  torch::Tensor attention_source_;
  torch::Tensor attention_target_;
  torch::Tensor bias_;
  torch::nn::Dropout dropout_{nullptr};
};

TORCH_MODULE(GatConv);

/// Throws ShapeError unless edge_index is [2, E] int64 with entries in [0, nodes) and edge_weight (when defined) is
/// [E] with finite, non-negative values.
void check_edges(const torch::Tensor& edge_index, const torch::Tensor& edge_weight, std::int64_t nodes,
                 const char* layer);

}  // namespace finfuse::nn
