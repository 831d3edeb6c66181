// An encoder defined outside finfuse: numeric features, each scaled by a learned gate in (0, 1), then a linear layer
// and GELU. One header, one source and one registry line (register_extension()).
#pragma once

#include <finfuse/core/options.h>
#include <finfuse/encoders/encoder.h>

#include <torch/nn/modules/container/functional.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace extension {

struct FeatureGateEncoderOptions {
#define EXTENSION_FEATURE_GATE_FIELDS(F)                                                                     \
  F(std::int64_t, hidden, 32, ::finfuse::Range::closed(1, 4096), "width of the encoded vector")             \
  F(double, dropout, 0.0, ::finfuse::Range::half_open(0, 1), "dropout after the activation")
  FINFUSE_OPTIONS(FeatureGateEncoderOptions, EXTENSION_FEATURE_GATE_FIELDS)
#undef EXTENSION_FEATURE_GATE_FIELDS
};

class FeatureGateEncoderImpl : public finfuse::encoders::Encoder {
 public:
  FeatureGateEncoderImpl(FeatureGateEncoderOptions options, finfuse::encoders::ModalitySpec spec);

  finfuse::encoders::EncoderOutput encode(const finfuse::data::ModalityBatch& input) override;
  std::int64_t output_size() const override { return options_.hidden(); }
  finfuse::Json options_json() const override;

  /// The gates, one per feature, in (0, 1).
  torch::Tensor gates() const;

 private:
  FeatureGateEncoderOptions options_;
  torch::Tensor gate_logits_;
  torch::nn::Linear linear_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(FeatureGateEncoder);

}  // namespace extension
