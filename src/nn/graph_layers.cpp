#include "finfuse/nn/graph_layers.h"

#include "finfuse/core/check.h"
#include "finfuse/core/shape.h"

#include <torch/nn/functional/normalization.h>
#include <torch/nn/init.h>
#include <torch/version.h>

#include <c10/util/Exception.h>

#include <mutex>

namespace finfuse::nn {
namespace {

torch::Tensor rows_of(const torch::Tensor& index, std::int64_t width) {
  return index.unsqueeze(1).expand({index.size(0), width});
}

// LibTorch 1.13 announces once per process that scatter_reduce is a beta API. The layers depend on its documented
// behaviour, which their tests pin down; the announcement is consumed here so users never see it.
class Silent : public c10::WarningHandler {
 public:
#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning&) override {}
#else
  void process(const c10::SourceLocation&, const std::string&, const bool) override {}
#endif
};

#if TORCH_VERSION_MAJOR >= 2
using WarningHandlerGuard = c10::WarningUtils::WarningHandlerGuard;
#else
using WarningHandlerGuard = c10::Warning::WarningHandlerGuard;
#endif

void consume_beta_notice() {
  static std::once_flag once;
  std::call_once(once, [] {
    Silent silent;
    WarningHandlerGuard guard(&silent);
    torch::NoGradGuard no_grad;
    torch::zeros({1}).scatter_reduce(0, torch::zeros({1}, torch::kInt64), torch::ones({1}), "amax", false);
  });
}

torch::Tensor scatter_max(const torch::Tensor& base, const torch::Tensor& index, const torch::Tensor& source) {
  consume_beta_notice();
  return base.scatter_reduce(0, rows_of(index, source.size(1)), source, "amax", /*include_self=*/false);
}

}  // namespace

void check_edges(const torch::Tensor& edge_index, const torch::Tensor& edge_weight, std::int64_t nodes,
                 const char* layer) {
  FINFUSE_CHECK_SHAPE(edge_index.defined() && edge_index.dim() == 2 && edge_index.size(0) == 2 &&
                          edge_index.scalar_type() == torch::kInt64,
                      layer, ": expected edge_index [2, E] int64, got ",
                      edge_index.defined() ? shape_string(edge_index.sizes()) : std::string("no tensor"));
  const std::int64_t edges = edge_index.size(1);
  if (edges > 0) {
    const auto lo = edge_index.min().item<std::int64_t>();
    const auto hi = edge_index.max().item<std::int64_t>();
    FINFUSE_CHECK_SHAPE(lo >= 0 && hi < nodes, layer, ": edge_index refers to node ", lo < 0 ? lo : hi, " of a graph of ",
                        nodes, " nodes");
  }
  if (edge_weight.defined()) {
    FINFUSE_CHECK_SHAPE(edge_weight.dim() == 1 && edge_weight.size(0) == edges, layer, ": expected edge_weight [",
                        edges, "], got ", shape_string(edge_weight.sizes()));
    if (edges > 0) {
      FINFUSE_CHECK(torch::isfinite(edge_weight).all().item<bool>() && edge_weight.min().item<double>() >= 0.0, layer,
                    ": edge weights must be finite and non-negative");
    }
  }
}

SageConvImpl::SageConvImpl(std::int64_t in_features, std::int64_t out_features, std::string aggregator, bool normalize)
    : in_features_(in_features), out_features_(out_features), aggregator_(std::move(aggregator)), normalize_(normalize) {
  FINFUSE_CHECK(in_features > 0 && out_features > 0, "SageConv: sizes must be > 0, got ", in_features, " -> ",
                out_features);
  FINFUSE_CHECK(aggregator_ == "mean" || aggregator_ == "max_pool", "SageConv: aggregator must be 'mean' or "
                "'max_pool', got '", aggregator_, "'");
  reset();
}

void SageConvImpl::reset() {
  self_ = register_module("self", torch::nn::Linear(in_features_, out_features_));
  neighbour_ = register_module("neighbour", torch::nn::Linear(torch::nn::LinearOptions(in_features_, out_features_)
                                                                  .bias(false)));
  if (aggregator_ == "max_pool") {
    pool_ = register_module("pool", torch::nn::Linear(in_features_, in_features_));
  }
}

torch::Tensor SageConvImpl::forward(const torch::Tensor& x, const torch::Tensor& edge_index,
                                    const torch::Tensor& edge_weight) {
  FINFUSE_CHECK_SHAPE(x.dim() == 2 && x.size(1) == in_features_, "SageConv: expected x [N, ", in_features_, "], got ",
                      shape_string(x.sizes()));
  const std::int64_t n = x.size(0);
  check_edges(edge_index, edge_weight, n, "SageConv");
  const auto source = edge_index[0];
  const auto target = edge_index[1];
  torch::Tensor aggregated;
  if (aggregator_ == "mean") {
    const auto weight = edge_weight.defined() ? edge_weight.to(x.scalar_type())
                                              : torch::ones({edge_index.size(1)}, x.options());
    const auto messages = x.index_select(0, source) * weight.unsqueeze(1);
    const auto total = torch::zeros({n, in_features_}, x.options()).index_add(0, target, messages);
    const auto mass = torch::zeros({n}, x.options()).index_add(0, target, weight);
    aggregated = total / mass.clamp_min(1e-12).unsqueeze(1);
  } else {
    const auto pooled = torch::relu(pool_->forward(x));
    const auto messages = pooled.index_select(0, source);
    aggregated = scatter_max(torch::zeros({n, in_features_}, x.options()), target, messages);
  }
  auto out = self_->forward(x) + neighbour_->forward(aggregated);
  if (normalize_) {
    out = torch::nn::functional::normalize(out, torch::nn::functional::NormalizeFuncOptions().p(2).dim(-1));
  }
  return out;
}

GatConvImpl::GatConvImpl(std::int64_t in_features, std::int64_t heads, std::int64_t head_size, double dropout,
                         double negative_slope)
    : in_features_(in_features),
      heads_(heads),
      head_size_(head_size),
      dropout_p_(dropout),
      negative_slope_(negative_slope) {
  FINFUSE_CHECK(in_features > 0 && heads > 0 && head_size > 0, "GatConv: sizes must be > 0, got in ", in_features,
                ", heads ", heads, ", head size ", head_size);
  FINFUSE_CHECK(dropout >= 0.0 && dropout < 1.0, "GatConv: dropout must be in [0, 1), got ", dropout);
  reset();
}

void GatConvImpl::reset() {
  linear_ = register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(in_features_, heads_ * head_size_)
                                                            .bias(false)));
  attention_source_ = register_parameter("attention_source", torch::empty({heads_, head_size_}));
  attention_target_ = register_parameter("attention_target", torch::empty({heads_, head_size_}));
  bias_ = register_parameter("bias", torch::zeros({heads_ * head_size_}));
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout_p_));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(linear_->weight);
  torch::nn::init::xavier_uniform_(attention_source_);
  torch::nn::init::xavier_uniform_(attention_target_);
}

torch::Tensor GatConvImpl::forward(const torch::Tensor& x, const torch::Tensor& edge_index) {
  return forward_with_attention(x, edge_index).output;
}

GatResult GatConvImpl::forward_with_attention(const torch::Tensor& x, const torch::Tensor& edge_index) {
  FINFUSE_CHECK_SHAPE(x.dim() == 2 && x.size(1) == in_features_, "GatConv: expected x [N, ", in_features_, "], got ",
                      shape_string(x.sizes()));
  const std::int64_t n = x.size(0);
  check_edges(edge_index, torch::Tensor(), n, "GatConv");
  const auto keep = edge_index[0] != edge_index[1];
  const auto loops = torch::arange(n, edge_index.options());
  const auto source = torch::cat({edge_index[0].masked_select(keep), loops});
  const auto target = torch::cat({edge_index[1].masked_select(keep), loops});

  const auto z = linear_->forward(x).view({n, heads_, head_size_});
  const auto score_source = (z * attention_source_).sum(-1);  // [N, H]
  const auto score_target = (z * attention_target_).sum(-1);
  const auto logits = torch::leaky_relu(score_source.index_select(0, source) + score_target.index_select(0, target),
                                        negative_slope_);  // [E', H]
  // Softmax over each target's incoming edges, shifted by the per-target maximum for stability.
  const auto maximum = scatter_max(torch::zeros({n, heads_}, logits.options()), target, logits.detach());
  const auto exponent = torch::exp(logits - maximum.index_select(0, target));
  const auto total = torch::zeros({n, heads_}, logits.options()).index_add(0, target, exponent);
  const auto attention = exponent / total.index_select(0, target);
  const auto messages = z.index_select(0, source) * dropout_->forward(attention).unsqueeze(-1);
  const auto out = torch::zeros({n, heads_, head_size_}, z.options()).index_add(0, target, messages);
  return GatResult{out.reshape({n, heads_ * head_size_}) + bias_, attention, torch::stack({source, target})};
}

}  // namespace finfuse::nn
