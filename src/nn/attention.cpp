#include "finfuse/nn/attention.h"

#include "finfuse/core/check.h"
#include "finfuse/core/shape.h"

#include <cmath>

namespace finfuse::nn {

MultiHeadAttentionImpl::MultiHeadAttentionImpl(std::int64_t hidden, std::int64_t heads, double dropout,
                                               std::int64_t query_size, std::int64_t key_size)
    : hidden_(hidden),
      heads_(heads),
      dropout_p_(dropout),
      query_size_(query_size > 0 ? query_size : hidden),
      key_size_(key_size > 0 ? key_size : hidden) {
  FINFUSE_CHECK(hidden > 0 && heads > 0 && hidden % heads == 0, "MultiHeadAttention: hidden (", hidden,
                ") must be a positive multiple of heads (", heads, ")");
  FINFUSE_CHECK(dropout >= 0.0 && dropout < 1.0, "MultiHeadAttention: dropout must be in [0, 1), got ", dropout);
  reset();
}

void MultiHeadAttentionImpl::reset() {
  query_ = register_module("query", torch::nn::Linear(query_size_, hidden_));
  key_ = register_module("key", torch::nn::Linear(key_size_, hidden_));
  value_ = register_module("value", torch::nn::Linear(key_size_, hidden_));
  output_ = register_module("output", torch::nn::Linear(hidden_, hidden_));
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout_p_));
}

AttentionResult MultiHeadAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& key,
                                                const torch::Tensor& value, const torch::Tensor& key_mask) {
  FINFUSE_CHECK_SHAPE(query.dim() == 3 && query.size(2) == query_size_, "MultiHeadAttention: expected query [B, Tq, ",
                      query_size_, "], got ", shape_string(query.sizes()));
  FINFUSE_CHECK_SHAPE(key.dim() == 3 && key.size(2) == key_size_ && key.size(0) == query.size(0) &&
                          value.sizes() == key.sizes(),
                      "MultiHeadAttention: expected key and value [", query.size(0), ", Tk, ", key_size_, "], got ",
                      shape_string(key.sizes()), " and ", shape_string(value.sizes()));
  const std::int64_t b = query.size(0);
  const std::int64_t tq = query.size(1);
  const std::int64_t tk = key.size(1);
  const std::int64_t d = hidden_ / heads_;
  const auto split = [&](const torch::Tensor& x, std::int64_t t) { return x.view({b, t, heads_, d}).transpose(1, 2); };
  const auto q = split(query_->forward(query), tq);
  const auto k = split(key_->forward(key), tk);
  const auto v = split(value_->forward(value), tk);
  // Scores and softmax in float32 whatever the compute type, so masking never overflows a half-precision range.
  auto scores = torch::matmul(q, k.transpose(-2, -1)).to(torch::kFloat32) / std::sqrt(static_cast<double>(d));
  torch::Tensor weights;
  if (key_mask.defined()) {
    FINFUSE_CHECK_SHAPE((key_mask.dim() == 2 && key_mask.size(0) == b && key_mask.size(1) == tk) ||
                            (key_mask.dim() == 3 && key_mask.size(0) == b && key_mask.size(1) == tq &&
                             key_mask.size(2) == tk),
                        "MultiHeadAttention: expected key_mask [", b, ", ", tk, "] or [", b, ", ", tq, ", ", tk,
                        "], got ", shape_string(key_mask.sizes()));
    const auto keep = key_mask.dim() == 2 ? key_mask.to(torch::kBool).view({b, 1, 1, tk})
                                          : key_mask.to(torch::kBool).view({b, 1, tq, tk});
    scores = scores.masked_fill(keep.logical_not(), -1e9);
    // A query with no real key: zero weights instead of a uniform average over padding.
    weights = torch::softmax(scores, -1) * keep.to(torch::kFloat32);
  } else {
    weights = torch::softmax(scores, -1);
  }
  const auto attended = torch::matmul(dropout_->forward(weights).to(v.scalar_type()), v);
  const auto merged = attended.transpose(1, 2).reshape({b, tq, hidden_});
  return AttentionResult{output_->forward(merged), weights};
}

}  // namespace finfuse::nn
