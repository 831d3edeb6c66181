// Multi-head scaled dot-product attention whose weights can be read back, for fusion layers that expose what each
// sample attended to. Queries and keys may come from spaces of different widths (cross-modal attention).
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace finfuse::nn {

struct AttentionResult {
  /// [B, Tq, hidden]
  torch::Tensor output;
  /// [B, heads, Tq, Tk]; a query with no real key gets all-zero weights (its output is the output projection's bias),
  /// never NaN.
  torch::Tensor weights;
};

class MultiHeadAttentionImpl : public torch::nn::Cloneable<MultiHeadAttentionImpl> {
 public:
  /// hidden must be divisible by heads; query_size and key_size are the input widths (0: hidden).
  MultiHeadAttentionImpl(std::int64_t hidden, std::int64_t heads, double dropout = 0.0, std::int64_t query_size = 0,
                         std::int64_t key_size = 0);

  void reset() override;

  /// query [B, Tq, query_size], key and value [B, Tk, key_size], key_mask [B, Tk] bool (true = attend; undefined:
  /// every key) or [B, Tq, Tk] (a mask per query). Throws ShapeError naming both shapes for inconsistent inputs.
  AttentionResult forward(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                          const torch::Tensor& key_mask = {});

  std::int64_t hidden() const { return hidden_; }
  std::int64_t heads() const { return heads_; }

 private:
  std::int64_t hidden_;
  std::int64_t heads_;
  double dropout_p_;
  std::int64_t query_size_;
  std::int64_t key_size_;
  torch::nn::Linear query_{nullptr};
  torch::nn::Linear key_{nullptr};
  torch::nn::Linear value_{nullptr};
  torch::nn::Linear output_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};

TORCH_MODULE(MultiHeadAttention);

}  // namespace finfuse::nn
