// Bilinear fusion of two modalities, z = act(x_a^T W x_b + b), as MAN-SF fuses text and price; the other
// modalities' vectors are concatenated to z.
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace finfuse::fusion {

struct BilinearFusionOptions {
#define FINFUSE_BILINEAR_FUSION_FIELDS(F)                                                                  \
  F(std::vector<std::string>, modalities, {}, FieldRule(),                                               \
    "the two modalities fused bilinearly (default: the first two)")                                      \
  F(std::int64_t, hidden, 64, Range::positive(), "output width")                                         \
  F(std::string, activation, "relu", FieldRule(), "a registered activation")                             \
  F(double, dropout, 0.0, Range::half_open(0, 1), "dropout on the output")
  FINFUSE_OPTIONS(BilinearFusionOptions, FINFUSE_BILINEAR_FUSION_FIELDS)
#undef FINFUSE_BILINEAR_FUSION_FIELDS

 public:
  /// None or two different modalities; a registered activation.
  void validate(const Config& config) const;
};

class BilinearFusionImpl : public Fusion {
 public:
  BilinearFusionImpl(const Config& config, std::vector<FusionModality> modalities);
  /// From typed options; a modality they name that `modalities` lacks is a ConfigError at its key.
  BilinearFusionImpl(const BilinearFusionOptions& options, std::vector<FusionModality> modalities);

  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override;
  Json options_json() const override { return typed_json("bilinear", options_.to_json()); }

 private:
  BilinearFusionOptions options_;
  std::size_t first_ = 0;
  std::size_t second_ = 1;
  torch::nn::Bilinear bilinear_{nullptr};
  torch::nn::AnyModule activation_;
  torch::nn::Dropout dropout_{nullptr};
};

TORCH_MODULE(BilinearFusion);

}  // namespace finfuse::fusion
