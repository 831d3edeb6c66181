#include "feature_gate_encoder.h"

#include <finfuse/core/error.h>

#include <fmt/format.h>

#include <torch/nn/functional/activation.h>

namespace extension {

FeatureGateEncoderImpl::FeatureGateEncoderImpl(FeatureGateEncoderOptions options, finfuse::encoders::ModalitySpec spec)
    : Encoder(std::move(spec)), options_(std::move(options)) {
  if (this->spec().shape.size() != 1) {
    throw finfuse::Error(fmt::format("feature_gate encodes one vector of features per sample (shape [F]); modality "
                                     "'{}' is not one",
                                     this->spec().name));
  }
  const auto features = this->spec().shape[0];
  gate_logits_ = register_parameter("gate_logits", torch::zeros({features}));
  linear_ = register_module("linear", torch::nn::Linear(features, options_.hidden()));
  dropout_ = register_module("dropout", torch::nn::Dropout(options_.dropout()));
}

finfuse::encoders::EncoderOutput FeatureGateEncoderImpl::encode(const finfuse::data::ModalityBatch& input) {
  check_input(input.values, /*integer_ids=*/false);
  const auto gated = input.values * torch::sigmoid(gate_logits_);
  finfuse::encoders::EncoderOutput out;
  out.pooled = dropout_(torch::nn::functional::gelu(linear_(gated)));
  return out;
}

finfuse::Json FeatureGateEncoderImpl::options_json() const {
  return finfuse::typed_json("feature_gate", options_.to_json());
}

torch::Tensor FeatureGateEncoderImpl::gates() const { return torch::sigmoid(gate_logits_); }

}  // namespace extension
