// Bilinear fusion of two modalities, z = act(x_a^T W x_b + b), as MAN-SF fuses text and price; the other
// modalities' vectors are concatenated to z.
#pragma once

#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

namespace finfuse::fusion {

struct BilinearFusionOptions {
  /// The two modalities fused bilinearly (default: the first two).
  std::vector<std::string> pair;
  std::int64_t hidden = 64;
  std::string activation = "relu";
  double dropout = 0.0;

  static BilinearFusionOptions from_config(const Config& config);
  Json to_json() const;
};

class BilinearFusionImpl : public Fusion {
 public:
  BilinearFusionImpl(const Config& config, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override;
  Json options_json() const override { return options_.to_json(); }

 private:
  BilinearFusionOptions options_;
  std::size_t first_ = 0;
  std::size_t second_ = 1;
  torch::nn::Bilinear bilinear_{nullptr};
  torch::nn::AnyModule activation_;
  torch::nn::Dropout dropout_{nullptr};
};

}  // namespace finfuse::fusion
