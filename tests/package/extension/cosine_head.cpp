#include "cosine_head.h"

#include <finfuse/core/error.h>

#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/normalization.h>
#include <torch/nn/init.h>

#include <string>

namespace extension {

namespace F = torch::nn::functional;

CosineHeadImpl::CosineHeadImpl(CosineHeadOptions options, std::int64_t in_features) : options_(std::move(options)) {
  prototypes_ = register_parameter("prototypes", torch::empty({options_.classes(), in_features}));
  torch::nn::init::normal_(prototypes_);
}

torch::Tensor CosineHeadImpl::forward(const torch::Tensor& fused) {
  const auto unit = F::normalize(fused, F::NormalizeFuncOptions().dim(1));
  const auto centres = F::normalize(prototypes_, F::NormalizeFuncOptions().dim(1));
  return options_.scale() * unit.matmul(centres.t());
}

torch::Tensor CosineHeadImpl::target(const finfuse::data::Batch& batch) const {
  if (!batch.target.defined()) {
    throw finfuse::Error("head '" + head_name() + "' learns the batch's label, which this batch does not have");
  }
  const auto classes = batch.target.to(torch::kInt64);
  if (classes.numel() > 0 && (classes.min().item<std::int64_t>() < 0 ||
                              classes.max().item<std::int64_t>() >= options_.classes())) {
    throw finfuse::Error("head '" + head_name() + "' has " + std::to_string(options_.classes()) +
                         " classes but the batch's label holds other values");
  }
  return classes;
}

torch::Tensor CosineHeadImpl::loss(const torch::Tensor& prediction, const torch::Tensor& target,
                                   const torch::Tensor&) const {
  return F::cross_entropy(prediction, target, F::CrossEntropyFuncOptions().label_smoothing(options_.label_smoothing()));
}

}  // namespace extension
