// BERT-style transformer encoder: token, position and segment embeddings with layer norm, N post-norm encoder
// layers (multi-head self-attention with padding masks, GELU feed-forward), [CLS] or mean pooling. Over float
// sequences (price windows [B, L, F]) a linear projection replaces the token embedding: a transformer over days.
// Module names follow BERT's ("embeddings.word_embeddings", "encoder.layer.0.attention.self.query", ...), so
// BERT-family checkpoints map onto it by name.
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/encoders/encoder.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace finfuse::encoders {

struct TransformerEncoderOptions {
#define FINFUSE_TRANSFORMER_ENCODER_FIELDS(F)                                                                 \
  F(std::int64_t, hidden, 128, Range::closed(1, 1 << 16), "model width")                                     \
  F(std::int64_t, layers, 2, Range::closed(1, 128), "encoder layers")                                        \
  F(std::int64_t, heads, 4, Range::closed(1, 1024), "attention heads; must divide hidden")                   \
  F(std::int64_t, intermediate, 512, Range::closed(1, 1 << 18), "width of the feed-forward layer")           \
  F(std::int64_t, max_positions, 512, Range::closed(1, 1 << 20), "longest sequence (position embeddings)")   \
  F(std::int64_t, type_vocab, 2, Range::closed(1, 1024), "token type (segment) ids")                         \
  F(std::int64_t, vocab_size, 0, Range::closed(0, 1 << 24),                                                   \
    "rows of the token embedding (0: the modality's vocabulary; more when a pretrained model has spare rows)")  \
  F(double, dropout, 0.1, Range::half_open(0, 1), "dropout")                                                 \
  F(double, layer_norm_eps, 1e-12, Range::positive(), "layer normalisation epsilon")                         \
  F(std::string, pooling, "cls", FieldRule::one_of({"cls", "mean"}),                                          \
    "\"cls\" (the first position) or \"mean\" (over real tokens)")
  FINFUSE_OPTIONS(TransformerEncoderOptions, FINFUSE_TRANSFORMER_ENCODER_FIELDS)
#undef FINFUSE_TRANSFORMER_ENCODER_FIELDS

 public:
  /// heads divides hidden.
  void validate(const Config& config) const;
};

class TransformerEncoderImpl : public Encoder {
 public:
  TransformerEncoderImpl(const TransformerEncoderOptions& options, ModalitySpec spec);

  EncoderOutput encode(const data::ModalityBatch& input) override;
  std::int64_t output_size() const override { return options_.hidden(); }
  std::int64_t token_size() const override { return output_size(); }
  Json options_json() const override { return typed_json("transformer", options_.to_json()); }
  std::vector<std::vector<std::string>> layers() const override;

  const TransformerEncoderOptions& options() const { return options_; }
  /// Whether the encoder reads token ids (else float sequences through a projection).
  bool reads_tokens() const { return tokens_; }
  /// The token embedding ("embeddings.word_embeddings"); undefined for float sequences.
  torch::nn::Embedding word_embeddings() const { return word_; }

  /// Encodes [S, T] ids (or [S, T, F] values) with a [S, T] mask: returns the hidden states [S, T, H]. `token_types`
  /// ([S, T] ids below type_vocab, e.g. 0 and 1 for a sentence pair) default to 0.
  torch::Tensor forward_sequence(const torch::Tensor& values, const torch::Tensor& mask,
                                 const torch::Tensor& token_types = {});

 private:
  TransformerEncoderOptions options_;
  bool tokens_;
  bool hierarchical_;
  std::shared_ptr<torch::nn::Module> embeddings_;
  torch::nn::Embedding word_{nullptr};
  torch::nn::Linear projection_{nullptr};
  torch::nn::Embedding position_{nullptr};
  torch::nn::Embedding token_type_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
};

TORCH_MODULE(TransformerEncoder);

}  // namespace finfuse::encoders
