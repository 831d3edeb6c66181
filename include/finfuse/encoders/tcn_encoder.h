// Temporal convolution network over price windows [B, L, F]: dilated causal residual blocks (Bai, Kolter & Koltun
// 2018), so the state at day t depends on days up to t only.
#pragma once

#include "finfuse/encoders/encoder.h"

#include <torch/nn/modules/container/modulelist.h>

namespace finfuse::encoders {

struct TcnEncoderOptions {
  /// Output channels of each residual block; block i uses dilation 2^i.
  std::vector<std::int64_t> channels = {32, 32, 32};
  std::int64_t kernel_size = 3;
  double dropout = 0.0;
  /// "last" (the state of the last day, which sees the whole window) or "mean".
  std::string pooling = "last";

  static TcnEncoderOptions from_config(const Config& config);
  Json to_json() const;
};

class TcnEncoderImpl : public Encoder {
 public:
  TcnEncoderImpl(const TcnEncoderOptions& options, ModalitySpec spec);

  EncoderOutput encode(const data::ModalityBatch& input) override;
  std::int64_t output_size() const override { return options_.channels.back(); }
  std::int64_t token_size() const override { return output_size(); }
  Json options_json() const override { return options_.to_json(); }

 private:
  TcnEncoderOptions options_;
  torch::nn::ModuleList blocks_{nullptr};
};

}  // namespace finfuse::encoders
