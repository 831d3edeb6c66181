#include "finfuse/encoders/mlp_encoder.h"

#include "finfuse/core/check.h"
#include "finfuse/nn/activation.h"

#include <torch/nn/modules/embedding.h>

#include <algorithm>

namespace finfuse::encoders {

MlpEncoderOptions MlpEncoderOptions::from_config(const Config& config) {
  MlpEncoderOptions o;
  o.layers = config.get<std::vector<std::int64_t>>("layers", o.layers);
  if (o.layers.empty()) {
    config.fail_at("layers", "must name at least one layer width");
  }
  for (std::size_t i = 0; i < o.layers.size(); ++i) {
    if (o.layers[i] <= 0) {
      config.child("layers")[i].fail(fmt::format("must be > 0, got {}", o.layers[i]));
    }
  }
  o.activation = nn::read_activation(config, "activation", o.activation);
  o.dropout = config.get<double>("dropout", o.dropout, Range::half_open(0, 1));
  o.norm = config.get_choice("norm", o.norm, {"none", "batch", "layer"});
  o.residual = config.get<bool>("residual", o.residual);
  o.embedding_dim = config.get<std::int64_t>("embedding_dim", o.embedding_dim, Range::non_negative());
  config.reject_unknown_keys();
  return o;
}

Json MlpEncoderOptions::to_json() const {
  return Json{{"type", "mlp"},     {"layers", layers},     {"activation", activation},      {"dropout", dropout},
              {"norm", norm},      {"residual", residual}, {"embedding_dim", embedding_dim}};
}

MlpEncoderImpl::MlpEncoderImpl(const MlpEncoderOptions& options, ModalitySpec spec)
    : Encoder(std::move(spec)), options_(options), categorical_(!this->spec().cardinalities.empty()) {
  FINFUSE_CHECK(this->spec().shape.size() == 1 && this->spec().shape[0] > 0, "mlp encoder of modality '",
                this->spec().name, "': needs a feature vector per sample");
  std::int64_t width = this->spec().shape[0];
  if (categorical_) {
    FINFUSE_CHECK(static_cast<std::int64_t>(this->spec().cardinalities.size()) == width, "mlp encoder of modality '",
                  this->spec().name, "': ", this->spec().cardinalities.size(), " cardinalities for ", width, " columns");
    embeddings_ = register_module("embeddings", torch::nn::ModuleList());
    width = 0;
    for (const auto cardinality : this->spec().cardinalities) {
      FINFUSE_CHECK(cardinality >= 1, "mlp encoder: a categorical column needs at least one id");
      const std::int64_t dim =
          options.embedding_dim > 0 ? options.embedding_dim : std::min<std::int64_t>(50, (cardinality + 1) / 2);
      embeddings_->push_back(torch::nn::Embedding(cardinality, std::max<std::int64_t>(dim, 1)));
      width += std::max<std::int64_t>(dim, 1);
    }
  }
  mlp_ = register_module("mlp", nn::Mlp(nn::MlpOptions(width, options.layers)
                                            .activation(options.activation)
                                            .dropout(options.dropout)
                                            .norm(options.norm)
                                            .residual(options.residual)));
}

EncoderOutput MlpEncoderImpl::encode(const data::ModalityBatch& input) {
  check_input(input.values, categorical_);
  torch::Tensor x = input.values;
  if (categorical_) {
    std::vector<torch::Tensor> parts;
    for (std::size_t c = 0; c < embeddings_->size(); ++c) {
      parts.push_back(embeddings_[c]->as<torch::nn::EmbeddingImpl>()->forward(
          x.select(1, static_cast<std::int64_t>(c)).to(torch::kInt64)));
    }
    x = torch::cat(parts, 1);
  }
  return EncoderOutput{mlp_->forward(x), torch::Tensor(), torch::Tensor()};
}

Json MlpEncoderImpl::options_json() const { return options_.to_json(); }

}  // namespace finfuse::encoders
