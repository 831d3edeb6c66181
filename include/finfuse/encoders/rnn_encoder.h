// Sequences through an LSTM or GRU: price windows [B, L, F], token ids [B, T] (embedded first, optionally from
// pretrained word vectors), or several texts per sample [B, N, T] (each text encoded, then pooled over the texts).
// Pooling: last state, masked mean, masked max, attention, or last state and attention context side by side (the
// attentive LSTM of Adv-ALSTM, Feng et al. 2019, with "input_layer" its tanh dense layer before the LSTM and
// "attention_units" its attention projection).
// Padding never changes the result: a forward-only RNN reads each sequence's state at its last real step (trailing
// padding cannot reach it), a bidirectional one packs ragged sequences to their true lengths.
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/encoders/encoder.h"

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <filesystem>

namespace finfuse::encoders {

struct RnnEncoderOptions {
#define FINFUSE_RNN_ENCODER_FIELDS(F)                                                                                   \
  F(std::string, cell, "lstm", FieldRule::one_of({"lstm", "gru"}), "recurrent cell: \"lstm\" or \"gru\"")             \
  F(std::int64_t, hidden, 64, Range::closed(1, 1 << 16), "hidden units per direction")                                \
  F(std::int64_t, layers, 1, Range::closed(1, 64), "stacked layers")                                                  \
  F(bool, bidirectional, false, FieldRule(), "read each sequence both ways (output width 2 x hidden)")               \
  F(double, dropout, 0.0, Range::half_open(0, 1), "dropout between stacked layers")                                   \
  F(std::string, pooling, "last", FieldRule::one_of({"last", "mean", "max", "attention", "last_attention"}),          \
    "how the steps are pooled: last state, masked mean, masked max, attention, or the last state and the attention " \
    "context side by side (output width doubles)")                                                                   \
  F(std::int64_t, attention_units, 0, Range::closed(0, 1 << 16),                                                     \
    "attention scores u . tanh(W h + b) with W of this many units (0: u . tanh(h) + c)")                             \
  F(std::int64_t, input_layer, 0, Range::closed(0, 1 << 16),                                                         \
    "a tanh dense layer of this width on each step of a float sequence before the RNN (0: none)")                    \
  F(std::int64_t, embedding_dim, 64, Range::closed(1, 1 << 16), "token ids: embedding size")                          \
  F(std::string, text_pooling, "attention", FieldRule::one_of({"mean", "max", "attention"}),                          \
    "several texts per sample: how the per-text vectors are pooled")
  FINFUSE_OPTIONS(RnnEncoderOptions, FINFUSE_RNN_ENCODER_FIELDS)
#undef FINFUSE_RNN_ENCODER_FIELDS
};

class RnnEncoderImpl : public Encoder {
 public:
  RnnEncoderImpl(const RnnEncoderOptions& options, ModalitySpec spec);

  EncoderOutput encode(const data::ModalityBatch& input) override;
  std::int64_t output_size() const override;
  std::int64_t token_size() const override;
  Json options_json() const override;
  /// The token embedding (when there is one) below the recurrent layers.
  std::vector<std::vector<std::string>> layers() const override;

  /// The token embedding; undefined for float sequences.
  torch::nn::Embedding embedding() const { return embedding_; }

  /// Initialises the token embedding from word2vec/GloVe text vectors for `vocabulary` (id -> token, e.g. the fitted
  /// tokenizer's tokens()); `freeze` keeps them fixed during training, otherwise they are fine-tuned. The vectors must
  /// have embedding_dim values. Returns how many tokens were found.
  std::int64_t load_pretrained_vectors(const std::filesystem::path& path, const std::vector<std::string>& vocabulary,
                                       bool freeze);

 private:
  /// Runs the RNN over [S, T, F] with lengths [S] (>= 1) and returns outputs [S, T, H] and the last states [S, H].
  std::pair<torch::Tensor, torch::Tensor> run(const torch::Tensor& x, const torch::Tensor& lengths);
  torch::Tensor pool(const torch::Tensor& outputs, const torch::Tensor& last, const torch::Tensor& mask,
                     const std::string& how, torch::nn::Linear& score);

  RnnEncoderOptions options_;
  bool tokens_;
  bool hierarchical_;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::GRU gru_{nullptr};
  torch::nn::Linear input_layer_{nullptr};
  torch::nn::Linear attention_projection_{nullptr};
  torch::nn::Linear attention_{nullptr};
  torch::nn::Linear text_attention_{nullptr};
};

TORCH_MODULE(RnnEncoder);

}  // namespace finfuse::encoders
