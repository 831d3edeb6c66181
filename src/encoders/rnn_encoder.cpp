#include "finfuse/encoders/rnn_encoder.h"

#include "finfuse/core/check.h"
#include "finfuse/encoders/pretrained.h"
#include "finfuse/nn/recurrent.h"

#include <torch/nn/utils/rnn.h>

#include <limits>

namespace finfuse::encoders {

RnnEncoderImpl::RnnEncoderImpl(const RnnEncoderOptions& options, ModalitySpec spec)
    : Encoder(std::move(spec)), options_(options) {
  const auto& shape = this->spec().shape;
  tokens_ = this->spec().vocab_size > 0;
  hierarchical_ = tokens_ && shape.size() == 2;
  FINFUSE_CHECK((tokens_ && (shape.size() == 1 || shape.size() == 2)) || (!tokens_ && shape.size() == 2),
                "rnn encoder of modality '", this->spec().name,
                "': expects token ids [T] or [N, T] (with a vocabulary) or a float sequence [L, F] per sample");
  std::int64_t input = tokens_ ? options.embedding_dim() : shape[1];
  FINFUSE_CHECK(options.input_layer() == 0 || !tokens_, "rnn encoder of modality '", this->spec().name,
                "': input_layer applies to float sequences; token ids have their embedding (embedding_dim)");
  if (options.input_layer() > 0) {
    input_layer_ = register_module("input_layer", torch::nn::Linear(input, options.input_layer()));
    input = options.input_layer();
  }
  if (tokens_) {
    embedding_ = register_module("embedding", torch::nn::Embedding(this->spec().vocab_size, options.embedding_dim()));
  }
  // Dropout between stacked layers only; LibTorch warns about it on a single layer.
  const double between = options.layers() > 1 ? options.dropout() : 0.0;
  if (options.cell() == "lstm") {
    lstm_ = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(input, options.hidden())
                                                        .num_layers(options.layers())
                                                        .bidirectional(options.bidirectional())
                                                        .dropout(between)
                                                        .batch_first(true)));
  } else {
    gru_ = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(input, options.hidden())
                                                     .num_layers(options.layers())
                                                     .bidirectional(options.bidirectional())
                                                     .dropout(between)
                                                     .batch_first(true)));
  }
  const std::int64_t width = options.hidden() * (options.bidirectional() ? 2 : 1);  // of each step's state
  if (options.pooling() == "attention" || options.pooling() == "last_attention") {
    if (options.attention_units() > 0) {
      attention_projection_ =
          register_module("attention_projection", torch::nn::Linear(width, options.attention_units()));
    }
    attention_ = register_module(
        "attention", torch::nn::Linear(torch::nn::LinearOptions(options.attention_units() > 0 ? options.attention_units()
                                                                                               : width,
                                                                 1)
                                           .bias(options.attention_units() == 0)));
  }
  if (hierarchical_ && options.text_pooling() == "attention") {
    text_attention_ = register_module("text_attention", torch::nn::Linear(output_size(), 1));
  }
}

std::int64_t RnnEncoderImpl::load_pretrained_vectors(const std::filesystem::path& path,
                                                    const std::vector<std::string>& vocabulary, bool freeze) {
  FINFUSE_CHECK(tokens_, "rnn encoder of modality '", spec().name, "' has no token embedding for word vectors");
  FINFUSE_CHECK(static_cast<std::int64_t>(vocabulary.size()) == spec().vocab_size, "rnn encoder of modality '",
                spec().name, "': a vocabulary of ", vocabulary.size(), " tokens for an embedding of ", spec().vocab_size);
  const auto report = load_word_vectors(path, vocabulary, embedding_->weight);
  embedding_->weight.set_requires_grad(!freeze);
  return report.found;
}

std::vector<std::vector<std::string>> RnnEncoderImpl::layers() const {
  if (tokens_) {
    return {{"embedding."}};
  }
  return {};
}

std::int64_t RnnEncoderImpl::output_size() const {
  return options_.hidden() * (options_.bidirectional() ? 2 : 1) * (options_.pooling() == "last_attention" ? 2 : 1);
}

// The tokens are the steps' states, or with several texts per sample the texts' pooled vectors.
std::int64_t RnnEncoderImpl::token_size() const {
  return hierarchical_ ? output_size() : options_.hidden() * (options_.bidirectional() ? 2 : 1);
}

Json RnnEncoderImpl::options_json() const { return typed_json("rnn", options_.to_json()); }

std::pair<torch::Tensor, torch::Tensor> RnnEncoderImpl::run(const torch::Tensor& x, const torch::Tensor& lengths) {
  namespace rnn = torch::nn::utils::rnn;
  const auto t = x.size(1);
  const bool full = (lengths == t).all().item<bool>();
  if (!options_.bidirectional() || full) {
    // A forward-only RNN never looks ahead, so trailing padding cannot change the states at real positions: run it
    // over the padded batch (about 5x faster than packing) and read each sequence's state at its last real step.
    // Without gradients (serving, evaluation) on CPU, finfuse's fused kernel; LibTorch's operators otherwise.
    torch::Tensor outputs = lstm_ ? nn::fused_rnn_outputs(lstm_, x) : nn::fused_rnn_outputs(gru_, x);
    if (!outputs.defined()) {
      outputs = lstm_ ? std::get<0>(lstm_->forward(x)) : std::get<0>(gru_->forward(x));
    }
    if (full) {
      return {outputs, options_.bidirectional()
                           ? torch::cat({outputs.select(1, t - 1).narrow(1, 0, options_.hidden()),
                                         outputs.select(1, 0).narrow(1, options_.hidden(), options_.hidden())},
                                        1)
                           : outputs.select(1, t - 1)};
    }
    const auto index = (lengths.to(outputs.device()) - 1).view({-1, 1, 1}).expand({-1, 1, outputs.size(2)});
    const auto last = outputs.gather(1, index).squeeze(1);
    // Outputs past a sequence's end are not part of it: zero them, as packing would.
    const auto positions = torch::arange(t, lengths.options().device(outputs.device())).unsqueeze(0);
    const auto valid = (positions < lengths.to(outputs.device()).unsqueeze(1)).unsqueeze(-1).to(outputs.dtype());
    return {outputs * valid, last};
  }
  // Bidirectional over ragged lengths: the backward direction must start at each sequence's real end.
  const auto packed = rnn::pack_padded_sequence(x, lengths.to(torch::kCPU), /*batch_first=*/true,
                                                /*enforce_sorted=*/false);
  torch::Tensor outputs;
  torch::Tensor h;
  if (lstm_) {
    auto result = lstm_->forward_with_packed_input(packed);
    outputs = std::get<0>(rnn::pad_packed_sequence(std::get<0>(result), /*batch_first=*/true, 0.0, t));
    h = std::get<0>(std::get<1>(result));
  } else {
    auto result = gru_->forward_with_packed_input(packed);
    outputs = std::get<0>(rnn::pad_packed_sequence(std::get<0>(result), /*batch_first=*/true, 0.0, t));
    h = std::get<1>(result);
  }
  return {outputs, torch::cat({h[-2], h[-1]}, 1)};
}

torch::Tensor RnnEncoderImpl::pool(const torch::Tensor& outputs, const torch::Tensor& last, const torch::Tensor& mask,
                                   const std::string& how, torch::nn::Linear& score) {
  if (how == "last") {
    return last;
  }
  const auto m = mask.unsqueeze(-1).to(outputs.dtype());
  const auto any = mask.any(1, /*keepdim=*/true).to(outputs.dtype());
  if (how == "mean") {
    return (outputs * m).sum(1) / m.sum(1).clamp_min(1.0);
  }
  if (how == "max") {
    const auto lowest = std::numeric_limits<float>::lowest();
    return outputs.masked_fill(~mask.unsqueeze(-1), lowest).amax(1) * any;
  }
  // Attention: softmax over the real positions of a learned score of each state, u . tanh(h) + c, or
  // u . tanh(W h + b) with a projection (the step attention only).
  const bool projected = &score == &attention_ && !attention_projection_.is_empty();
  const auto hidden = torch::tanh(projected ? attention_projection_->forward(outputs) : outputs);
  auto scores = score->forward(hidden).squeeze(-1).masked_fill(~mask, -1e9);
  const auto weights = torch::softmax(scores, 1) * mask.to(outputs.dtype());
  const auto context = (weights.unsqueeze(-1) * outputs).sum(1) * any;
  return how == "last_attention" ? torch::cat({last, context}, 1) : context;
}

EncoderOutput RnnEncoderImpl::encode(const data::ModalityBatch& input) {
  check_input(input.values, tokens_);
  const torch::Tensor& values = input.values;
  const auto b = values.size(0);
  if (!tokens_) {
    const auto lengths = torch::full({b}, values.size(1), torch::kInt64);
    const auto [outputs, last] = run(input_layer_ ? torch::tanh(input_layer_->forward(values)) : values, lengths);
    const auto mask = torch::ones({b, values.size(1)}, torch::TensorOptions().dtype(torch::kBool).device(values.device()));
    return EncoderOutput{pool(outputs, last, mask, options_.pooling(), attention_), outputs, mask};
  }
  FINFUSE_CHECK_SHAPE(input.mask.defined() && input.mask.sizes() == values.sizes(), "encoder of modality '",
                      spec().name, "': token ids need a padding mask of the same shape");
  const auto t = values.size(-1);
  const auto ids = values.reshape({-1, t}).to(torch::kInt64);
  const auto mask = input.mask.reshape({-1, t}).to(torch::kBool);
  const auto lengths = mask.sum(1);
  // Empty sequences (no text in a slot) run with length 1 and are masked out afterwards.
  const auto [outputs, last] = run(embedding_->forward(ids), lengths.clamp_min(1));
  const auto present = (lengths > 0).unsqueeze(1).to(outputs.dtype());
  const auto pooled = pool(outputs, last, mask, options_.pooling(), attention_) * present;
  if (!hierarchical_) {
    return EncoderOutput{pooled, outputs, mask};
  }
  // Several texts per sample: each text's vector is a token of the sample, pooled over the texts present.
  const auto n = values.size(1);
  const auto texts = pooled.reshape({b, n, -1});
  const auto text_mask = (lengths > 0).reshape({b, n});
  const auto last_text = texts.select(1, 0);  // newest text first
  return EncoderOutput{pool(texts, last_text, text_mask, options_.text_pooling(), text_attention_), texts, text_mask};
}

}  // namespace finfuse::encoders
