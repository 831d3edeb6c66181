// Convolutional encoders for images [B, C, H, W]: a configurable CNN whose default matches the chart model of Jiang,
// Kelly & Xiu (2023) -- 5x3 convolutions, batch norm, LeakyReLU, 2x1 max-pooling, 64 -> 128 -> 256 channels -- and
// ResNet-18/34 (basic blocks, batch norm; parameter names as torchvision's, so its weights load by name).
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/encoders/encoder.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace finfuse::encoders {

struct CnnEncoderOptions {
#define FINFUSE_CNN_ENCODER_FIELDS(F)                                                                              \
  F(std::vector<std::int64_t>, channels, {}, Range::positive(),                                                   \
    "channels per block; empty picks the paper's for the image height (32: 64-128, 64: 64-128-256, "              \
    "96: 64-128-256-512)")                                                                                         \
  F(std::vector<std::int64_t>, kernel, (std::vector<std::int64_t>{5, 3}), FieldRule(Range::positive()).size(2),   \
    "convolution kernel [height, width]")                                                                          \
  F(std::vector<std::int64_t>, pool, (std::vector<std::int64_t>{2, 1}), FieldRule(Range::positive()).size(2),     \
    "max-pooling window [height, width] after each block")                                                         \
  F(double, leaky_slope, 0.01, Range::closed(0, 1), "negative slope of the leaky ReLU")                            \
  F(bool, batch_norm, true, FieldRule(), "batch normalisation in each block")                                     \
  F(double, dropout, 0.5, Range::half_open(0, 1),                                                                  \
    "dropout before the output projection (the paper uses 0.5 before its final layer)")                           \
  F(std::int64_t, output, 128, Range::closed(1, 1 << 16), "size of the pooled output vector")
  FINFUSE_OPTIONS(CnnEncoderOptions, FINFUSE_CNN_ENCODER_FIELDS)
#undef FINFUSE_CNN_ENCODER_FIELDS
};

class CnnEncoderImpl : public Encoder {
 public:
  CnnEncoderImpl(const CnnEncoderOptions& options, ModalitySpec spec);

  EncoderOutput encode(const data::ModalityBatch& input) override;
  std::int64_t output_size() const override { return options_.output(); }
  std::int64_t token_size() const override { return channels_; }
  Json options_json() const override { return typed_json("cnn", options_.to_json()); }
  /// One per convolution block.
  std::vector<std::vector<std::string>> layers() const override;

 private:
  CnnEncoderOptions options_;
  /// Channels of the last block (the width of the feature-map tokens).
  std::int64_t channels_ = 0;
  torch::nn::ModuleList features_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear projection_{nullptr};
};

struct ResNetEncoderOptions {
#define FINFUSE_RESNET_ENCODER_FIELDS(F)                                                \
  F(std::int64_t, depth, 18, FieldRule(), "18 or 34 (torchvision's resnet18, resnet34)") \
  F(std::int64_t, output, 0, Range::closed(0, 1 << 16), "output size; 0 keeps the 512 features of the last stage")
  FINFUSE_OPTIONS(ResNetEncoderOptions, FINFUSE_RESNET_ENCODER_FIELDS)
#undef FINFUSE_RESNET_ENCODER_FIELDS

 public:
  /// depth is 18 or 34.
  void validate(const Config& config) const;
};

class ResNetEncoderImpl : public Encoder {
 public:
  ResNetEncoderImpl(const ResNetEncoderOptions& options, ModalitySpec spec);

  EncoderOutput encode(const data::ModalityBatch& input) override;
  std::int64_t output_size() const override { return options_.output() > 0 ? options_.output() : 512; }
  std::int64_t token_size() const override { return 512; }
  Json options_json() const override { return typed_json("resnet", options_.to_json()); }
  /// The stem (conv1, bn1), then layer1 ... layer4.
  std::vector<std::vector<std::string>> layers() const override {
    return {{"conv1.", "bn1."}, {"layer1."}, {"layer2."}, {"layer3."}, {"layer4."}};
  }
  const ResNetEncoderOptions& options() const { return options_; }

 private:
  ResNetEncoderOptions options_;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  std::vector<torch::nn::Sequential> stages_;
  torch::nn::Linear projection_{nullptr};
};

TORCH_MODULE(CnnEncoder);
TORCH_MODULE(ResNetEncoder);

}  // namespace finfuse::encoders
