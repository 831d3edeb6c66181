// Multi-layer perceptron: the building block of the numeric encoder and of prediction heads.
// Each hidden layer is Linear -> [BatchNorm | LayerNorm] -> activation -> dropout, with an optional residual
// connection where a layer keeps the width.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"

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

#define FINFUSE_MLP_FIELDS(F)                                                                                      \
  F(std::int64_t, in_features, 0, FieldRule::required(Range::positive()), "width of the input's last dimension")  \
  F(std::vector<std::int64_t>, layers, {},                                                                        \
    FieldRule::required(Range::positive()).non_empty("must name at least one layer width"),                       \
    "output width of each layer; the last one is the MLP's output size")                                          \
  F(std::string, activation, "relu", FieldRule(), "activation name from the activation registry")                \
  F(double, dropout, 0.0, Range::half_open(0.0, 1.0), "dropout probability after each activation")               \
  F(std::string, norm, "none", FieldRule::one_of({"none", "batch", "layer"}),                                     \
    "normalisation after each linear map")                                                                        \
  F(bool, residual, false, FieldRule(), "adds the layer's input to its output where the widths match")           \
  F(bool, activate_output, true, FieldRule(),                                                                     \
    "applies norm, activation and dropout after the last layer too; false leaves a plain linear output (logits " \
    "or regression values, as a head wants)")
  FINFUSE_OPTIONS(MlpOptions, FINFUSE_MLP_FIELDS)
#undef FINFUSE_MLP_FIELDS

 public:
  /// The activation must be registered.
  void validate(const Config& config) const;

 private:
  MlpOptions() = default;  // for from_config() and fields(), which fill in or list the required fields
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
