#include "finfuse/encoders/mlp_encoder.h"

#include "finfuse/core/check.h"
#include "finfuse/nn/activation.h"

#include <torch/nn/modules/embedding.h>

#include <algorithm>

namespace finfuse::encoders {

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
          options.embedding_dim() > 0 ? options.embedding_dim() : std::min<std::int64_t>(50, (cardinality + 1) / 2);
      embeddings_->push_back(torch::nn::Embedding(cardinality, std::max<std::int64_t>(dim, 1)));
      width += std::max<std::int64_t>(dim, 1);
    }
  }
  mlp_ = register_module("mlp", nn::Mlp(nn::MlpOptions(width, options.layers())
                                            .activation(options.activation())
                                            .dropout(options.dropout())
                                            .norm(options.norm())
                                            .residual(options.residual())));
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

void MlpEncoderOptions::validate(const Config& config) const { nn::read_activation(config, "activation", activation()); }

Json MlpEncoderImpl::options_json() const { return typed_json("mlp", options_.to_json()); }

}  // namespace finfuse::encoders
