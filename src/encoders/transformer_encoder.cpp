#include "finfuse/encoders/transformer_encoder.h"

#include "finfuse/core/check.h"

#include <fmt/format.h>
#include <torch/nn/functional/activation.h>

#include <cmath>

namespace finfuse::encoders {
namespace {

// BERT's self-attention with its output projection and residual layer norm ("attention.self", "attention.output").
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(std::int64_t hidden, std::int64_t heads, double dropout, double eps) : heads_(heads) {
    auto self = register_module("self", std::make_shared<torch::nn::Module>());
    query = self->register_module("query", torch::nn::Linear(hidden, hidden));
    key = self->register_module("key", torch::nn::Linear(hidden, hidden));
    value = self->register_module("value", torch::nn::Linear(hidden, hidden));
    auto output = register_module("output", std::make_shared<torch::nn::Module>());
    dense = output->register_module("dense", torch::nn::Linear(hidden, hidden));
    norm = output->register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden}).eps(eps)));
    dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
    const auto b = x.size(0);
    const auto t = x.size(1);
    const auto d = x.size(2) / heads_;
    const auto split = [&](const torch::Tensor& h) { return h.view({b, t, heads_, d}).transpose(1, 2); };
    const auto q = split(query->forward(x));
    const auto k = split(key->forward(x));
    const auto v = split(value->forward(x));
    auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d));
    scores = scores + additive_mask;  // [B, 1, 1, T]: 0 for real tokens, a large negative for padding
    const auto weights = dropout_->forward(torch::softmax(scores, -1));
    const auto context = torch::matmul(weights, v).transpose(1, 2).reshape({b, t, heads_ * d});
    return norm->forward(x + dropout_->forward(dense->forward(context)));
  }

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, dense{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  std::int64_t heads_;
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(Attention);

// One BERT layer: attention, then the GELU feed-forward ("intermediate", "output") with residual layer norm.
class LayerImpl : public torch::nn::Module {
 public:
  LayerImpl(const TransformerEncoderOptions& o) {
    attention = register_module("attention", Attention(o.hidden(), o.heads(), o.dropout(), o.layer_norm_eps()));
    auto intermediate_module = register_module("intermediate", std::make_shared<torch::nn::Module>());
    intermediate = intermediate_module->register_module("dense", torch::nn::Linear(o.hidden(), o.intermediate()));
    auto output_module = register_module("output", std::make_shared<torch::nn::Module>());
    output = output_module->register_module("dense", torch::nn::Linear(o.intermediate(), o.hidden()));
    norm = output_module->register_module(
        "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden()}).eps(o.layer_norm_eps())));
    dropout_ = register_module("dropout", torch::nn::Dropout(o.dropout()));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
    const auto h = attention->forward(x, additive_mask);
    const auto f = output->forward(torch::gelu(intermediate->forward(h)));
    return norm->forward(h + dropout_->forward(f));
  }

  Attention attention{nullptr};
  torch::nn::Linear intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(Layer);

}  // namespace

void TransformerEncoderOptions::validate(const Config& config) const {
  if (hidden() % heads() != 0) {
    config.fail_at("heads", fmt::format("must divide hidden ({}), got {}", hidden(), heads()));
  }
}

TransformerEncoderImpl::TransformerEncoderImpl(const TransformerEncoderOptions& options, ModalitySpec spec)
    : Encoder(std::move(spec)), options_(options) {
  const auto& shape = this->spec().shape;
  tokens_ = this->spec().vocab_size > 0;
  hierarchical_ = tokens_ && shape.size() == 2;
  FINFUSE_CHECK((tokens_ && (shape.size() == 1 || shape.size() == 2)) || (!tokens_ && shape.size() == 2),
                "transformer encoder of modality '", this->spec().name,
                "': expects token ids [T] or [N, T] (with a vocabulary) or a float sequence [L, F] per sample");
  FINFUSE_CHECK(shape[shape.size() - (tokens_ ? 1 : 2)] <= options.max_positions(), "transformer encoder of modality '",
                this->spec().name, "': sequences of ", shape[shape.size() - (tokens_ ? 1 : 2)],
                " positions exceed max_positions ", options.max_positions());
  embeddings_ = register_module("embeddings", std::make_shared<torch::nn::Module>());
  if (tokens_) {
    FINFUSE_CHECK(options.vocab_size() == 0 || options.vocab_size() >= this->spec().vocab_size,
                  "transformer encoder of modality '", this->spec().name, "': vocab_size ", options.vocab_size(),
                  " is below the modality's vocabulary of ", this->spec().vocab_size, " tokens");
    const auto rows = options.vocab_size() > 0 ? options.vocab_size() : this->spec().vocab_size;
    word_ = embeddings_->register_module("word_embeddings", torch::nn::Embedding(rows, options.hidden()));
  } else {
    projection_ = embeddings_->register_module("projection", torch::nn::Linear(shape[1], options.hidden()));
  }
  position_ = embeddings_->register_module("position_embeddings", torch::nn::Embedding(options.max_positions(), options.hidden()));
  token_type_ = embeddings_->register_module("token_type_embeddings", torch::nn::Embedding(options.type_vocab(), options.hidden()));
  norm_ = embeddings_->register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.hidden()}).eps(options.layer_norm_eps())));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout()));
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  layers_ = encoder->register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < options.layers(); ++i) {
    layers_->push_back(Layer(options));
  }
  // BERT's initialisation: normal(0, 0.02) weights, zero biases.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    if (p.key().find("LayerNorm") != std::string::npos) {
      continue;
    }
    if (p.key().size() >= 4 && p.key().compare(p.key().size() - 4, 4, "bias") == 0) {
      p.value().zero_();
    } else {
      p.value().normal_(0.0, 0.02);
    }
  }
}

std::vector<std::vector<std::string>> TransformerEncoderImpl::layers() const {
  std::vector<std::vector<std::string>> out{{"embeddings."}};
  for (std::int64_t i = 0; i < options_.layers(); ++i) {
    out.push_back({fmt::format("encoder.layer.{}.", i)});
  }
  return out;
}

torch::Tensor TransformerEncoderImpl::forward_sequence(const torch::Tensor& values, const torch::Tensor& mask,
                                                       const torch::Tensor& token_types) {
  const auto t = values.size(1);
  const auto positions = torch::arange(t, torch::TensorOptions().dtype(torch::kInt64).device(values.device()));
  auto h = tokens_ ? word_->forward(values.to(torch::kInt64)) : projection_->forward(values);
  h = h + position_->forward(positions).unsqueeze(0);
  if (token_types.defined()) {
    FINFUSE_CHECK_SHAPE(token_types.dim() == 2 && token_types.size(0) == values.size(0) && token_types.size(1) == t,
                        "transformer encoder of modality '", spec().name, "': token types must be [", values.size(0),
                        ", ", t, "], got ", token_types.sizes());
    h = h + token_type_->forward(token_types.to(torch::kInt64));
  } else {
    h = h + token_type_->forward(torch::zeros_like(positions)).unsqueeze(0);
  }
  h = dropout_->forward(norm_->forward(h));
  const auto additive = (1.0 - mask.to(h.dtype())).mul(-1e4).view({mask.size(0), 1, 1, t});
  for (const auto& layer : *layers_) {
    h = layer->as<LayerImpl>()->forward(h, additive);
  }
  return h;
}

EncoderOutput TransformerEncoderImpl::encode(const data::ModalityBatch& input) {
  check_input(input.values, tokens_);
  const auto& values = input.values;
  const auto b = values.size(0);
  const auto options = torch::TensorOptions().dtype(torch::kBool).device(values.device());
  const auto pool = [&](const torch::Tensor& h, const torch::Tensor& mask) {
    if (options_.pooling() == "cls") {
      return h.select(1, 0) * mask.any(1, true).to(h.dtype());
    }
    const auto m = mask.unsqueeze(-1).to(h.dtype());
    return (h * m).sum(1) / m.sum(1).clamp_min(1.0);
  };
  if (!tokens_) {
    const auto mask = torch::ones({b, values.size(1)}, options);
    const auto h = forward_sequence(values, mask);
    return EncoderOutput{pool(h, mask), h, mask};
  }
  FINFUSE_CHECK_SHAPE(input.mask.defined() && input.mask.sizes() == values.sizes(), "encoder of modality '",
                      spec().name, "': token ids need a padding mask of the same shape");
  const auto t = values.size(-1);
  const auto mask = input.mask.reshape({-1, t}).to(torch::kBool);
  const auto h = forward_sequence(values.reshape({-1, t}), mask);
  const auto pooled = pool(h, mask);
  if (!hierarchical_) {
    return EncoderOutput{pooled, h, mask};
  }
  // Several texts per sample: each text's vector is a token; the sample is their mean over texts present.
  const auto n = values.size(1);
  const auto texts = pooled.reshape({b, n, -1});
  const auto text_mask = mask.any(1).reshape({b, n});
  const auto m = text_mask.unsqueeze(-1).to(texts.dtype());
  return EncoderOutput{(texts * m).sum(1) / m.sum(1).clamp_min(1.0), texts, text_mask};
}

}  // namespace finfuse::encoders
