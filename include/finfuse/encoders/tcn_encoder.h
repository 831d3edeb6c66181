// Temporal convolution network over price windows [B, L, F]: dilated causal residual blocks (Bai, Kolter & Koltun
// 2018), so the state at day t depends on days up to t only.
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/encoders/encoder.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

namespace finfuse::encoders {

struct TcnEncoderOptions {
#define FINFUSE_TCN_ENCODER_FIELDS(F)                                                                             \
  F(std::vector<std::int64_t>, channels, (std::vector<std::int64_t>{32, 32, 32}),                               \
    FieldRule(Range::positive()).non_empty("must name at least one block"),                                     \
    "output channels of each residual block; block i uses dilation 2^i")                                         \
  F(std::int64_t, kernel_size, 3, Range::closed(1, 64), "causal convolution width")                              \
  F(double, dropout, 0.0, Range::half_open(0, 1), "dropout in each block")                                       \
  F(std::string, pooling, "last", FieldRule::one_of({"last", "mean"}),                                            \
    "\"last\" (the state of the last day, which sees the whole window) or \"mean\"")
  FINFUSE_OPTIONS(TcnEncoderOptions, FINFUSE_TCN_ENCODER_FIELDS)
#undef FINFUSE_TCN_ENCODER_FIELDS
};

class TcnEncoderImpl : public Encoder {
 public:
  TcnEncoderImpl(const TcnEncoderOptions& options, ModalitySpec spec);

  EncoderOutput encode(const data::ModalityBatch& input) override;
  std::int64_t output_size() const override { return options_.channels().back(); }
  std::int64_t token_size() const override { return output_size(); }
  Json options_json() const override { return typed_json("tcn", options_.to_json()); }

 private:
  TcnEncoderOptions options_;
  torch::nn::ModuleList blocks_{nullptr};
};

TORCH_MODULE(TcnEncoder);

}  // namespace finfuse::encoders
