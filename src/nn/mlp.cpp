#include "finfuse/nn/mlp.h"

#include "finfuse/core/check.h"
#include "finfuse/core/shape.h"
#include "finfuse/core/suggest.h"
#include "finfuse/nn/activation.h"
#include "kernels.h"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <fmt/format.h>

namespace finfuse::nn {
namespace {

const std::vector<std::string>& norm_choices() {
  static const std::vector<std::string> choices = {"none", "batch", "layer"};
  return choices;
}

void validate(const MlpOptions& options) {
  FINFUSE_CHECK(options.in_features() > 0, "Mlp: in_features must be > 0, got ", options.in_features());
  FINFUSE_CHECK(!options.layers().empty(), "Mlp: layers must name at least one layer width");
  for (std::size_t i = 0; i < options.layers().size(); ++i) {
    FINFUSE_CHECK(options.layers()[i] > 0, "Mlp: layers[", i, "] must be > 0, got ", options.layers()[i]);
  }
  FINFUSE_CHECK(options.dropout() >= 0.0 && options.dropout() < 1.0, "Mlp: dropout must be in [0, 1), got ",
                options.dropout());
  const auto& norms = norm_choices();
  FINFUSE_CHECK(std::find(norms.begin(), norms.end(), options.norm()) != norms.end(),
                "Mlp: norm must be 'none', 'batch' or 'layer', got '", options.norm(), "'");
}

}  // namespace

MlpOptions::MlpOptions(std::int64_t in_features, std::vector<std::int64_t> layers)
    : in_features_(in_features), layers_(std::move(layers)) {}

void MlpOptions::validate(const Config& config) const { read_activation(config, "activation", activation()); }

bool operator==(const MlpOptions& a, const MlpOptions& b) { return a.to_json() == b.to_json(); }

MlpImpl::MlpImpl(MlpOptions options_) : options(std::move(options_)) { reset(); }

void MlpImpl::reset() {
  validate(options);
  layers_ = register_module("layers", torch::nn::ModuleList());
  residual_.clear();
  std::int64_t width = options.in_features();
  const std::size_t count = options.layers().size();
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t out = options.layers()[i];
    const bool last = i + 1 == count;
    torch::nn::Sequential layer;
    layer->push_back("linear", torch::nn::Linear(width, out));
    if (!last || options.activate_output()) {
      if (options.norm() == "batch") {
        layer->push_back("norm", torch::nn::BatchNorm1d(out));
      } else if (options.norm() == "layer") {
        layer->push_back("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({out})));
      }
      layer->push_back("activation", make_activation(options.activation()));
      if (options.dropout() > 0.0) {
        layer->push_back("dropout", torch::nn::Dropout(options.dropout()));
      }
    }
    layers_->push_back(layer);
    residual_.push_back(options.residual() && width == out);
    width = out;
  }
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  FINFUSE_CHECK_SHAPE(x.dim() >= 1 && x.size(-1) == options.in_features(), "Mlp: expected input of shape [..., ",
                      options.in_features(), "], got ", shape_string(x.sizes()));
  // Batch norm wants [N, C]: fold any leading dimensions into the batch.
  const auto leading = x.sizes().slice(0, x.dim() - 1).vec();
  torch::Tensor h = x.reshape({-1, options.in_features()});
  FINFUSE_CHECK_SHAPE(!(is_training() && options.norm() == "batch" && h.size(0) < 2),
                      "Mlp: batch normalisation in training mode needs at least 2 samples, got input ",
                      shape_string(x.sizes()));
  for (std::size_t i = 0; i < layers_->size(); ++i) {
    auto& layer = *layers_[i]->as<torch::nn::SequentialImpl>();
    // The linear layer through nn::linear (a single row as a matrix-vector product), then norm, activation, dropout.
    torch::Tensor out = nn::linear(h, torch::nn::Linear(layer.ptr<torch::nn::LinearImpl>(0)));
    for (auto module = std::next(layer.begin()); module != layer.end(); ++module) {
      out = module->forward(out);
    }
    h = residual_[i] ? out + h : out;
  }
  auto out_shape = leading;
  out_shape.push_back(output_size());
  return h.reshape(out_shape);
}

std::int64_t MlpImpl::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& p : parameters()) {
    count += p.numel();
  }
  return count;
}

void MlpImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("finfuse::nn::Mlp(in_features={}, layers=[{}], activation={}, norm={}, dropout={}{})",
                        options.in_features(), fmt::join(options.layers(), ", "), options.activation(),
                        options.norm(), options.dropout(), options.residual() ? ", residual" : "");
}

}  // namespace finfuse::nn
