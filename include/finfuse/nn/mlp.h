// Multi-layer perceptron: the building block of the numeric encoder and of prediction heads.
// Each hidden layer is Linear -> [BatchNorm | LayerNorm] -> activation -> dropout, with an optional residual
// connection where a layer keeps the width.
#pragma once

#include "finfuse/core/config.h"

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::nn {

struct MlpOptions {
  MlpOptions(std::int64_t in_features, std::vector<std::int64_t> layers);

  /// Width of the input's last dimension.
  TORCH_ARG(std::int64_t, in_features);
  /// Output width of each layer; the last one is the MLP's output size.
  TORCH_ARG(std::vector<std::int64_t>, layers);
  /// Activation name from the activation registry.
  TORCH_ARG(std::string, activation) = "relu";
  /// Dropout probability after each activation, in [0, 1).
  TORCH_ARG(double, dropout) = 0.0;
  /// "none", "batch" or "layer" normalisation after each linear map.
  TORCH_ARG(std::string, norm) = "none";
  /// Adds the layer's input to its output where the widths match.
  TORCH_ARG(bool, residual) = false;
  /// Applies norm, activation and dropout after the last layer too; false leaves a plain linear output
  /// (logits or regression values, as a head wants).
  TORCH_ARG(bool, activate_output) = true;

 public:  // TORCH_ARG leaves the access at private
  /// Reads {"in_features", "layers", "activation", "dropout", "norm", "residual", "activate_output"}.
  static MlpOptions from_config(const Config& config);
  Json to_json() const;
};

bool operator==(const MlpOptions& a, const MlpOptions& b);

class MlpImpl : public torch::nn::Cloneable<MlpImpl> {
 public:
  explicit MlpImpl(MlpOptions options);
  MlpImpl(std::int64_t in_features, std::vector<std::int64_t> layers)
      : MlpImpl(MlpOptions(in_features, std::move(layers))) {}

  void reset() override;

  /// x: [..., in_features] -> [..., output_size()]. Throws ShapeError for any other last dimension.
  torch::Tensor forward(const torch::Tensor& x);

  std::int64_t output_size() const { return options.layers().back(); }
  std::int64_t parameter_count() const;

  void pretty_print(std::ostream& stream) const override;

  MlpOptions options;

 private:
  torch::nn::ModuleList layers_{nullptr};
  std::vector<bool> residual_;
};

TORCH_MODULE(Mlp);

}  // namespace finfuse::nn
