#include "finfuse/encoders/cnn_encoder.h"

#include "finfuse/core/check.h"
#include "../nn/kernels.h"

#include <fmt/format.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>

namespace finfuse::encoders {
namespace {

// torchvision's BasicBlock: conv3x3 -> bn -> relu -> conv3x3 -> bn, plus the (downsampled) input, relu.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride) {
    conv1 = register_module(
        "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(out));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
      downsample = register_module(
          "downsample", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                                              torch::nn::BatchNorm2d(out)));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::relu(bn1->forward(conv1->forward(x)));
    h = bn2->forward(conv2->forward(h));
    return torch::relu(h + (downsample ? downsample->forward(x) : x));
  }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::BatchNorm2d bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

void check_image_spec(const ModalitySpec& spec, const char* what) {
  FINFUSE_CHECK(spec.shape.size() == 3 && spec.vocab_size == 0, what, " encoder of modality '", spec.name,
                "': expects images [C, H, W] per sample");
}

}  // namespace

CnnEncoderImpl::CnnEncoderImpl(const CnnEncoderOptions& options, ModalitySpec spec)
    : Encoder(std::move(spec)), options_(options) {
  check_image_spec(this->spec(), "cnn");
  auto [c, h, w] = std::tuple{this->spec().shape[0], this->spec().shape[1], this->spec().shape[2]};
  if (options_.channels().empty()) {
    options_.channels() = h <= 32 ? std::vector<std::int64_t>{64, 128}
                                : (h <= 64 ? std::vector<std::int64_t>{64, 128, 256}
                                           : std::vector<std::int64_t>{64, 128, 256, 512});
  }
  features_ = register_module("features", torch::nn::ModuleList());
  for (const auto out : options_.channels()) {
    torch::nn::Sequential block;
    block->push_back("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, out, {options_.kernel()[0], options_.kernel()[1]})
                                                   .padding({options_.kernel()[0] / 2, options_.kernel()[1] / 2})));
    if (options_.batch_norm()) {
      block->push_back("norm", torch::nn::BatchNorm2d(out));
    }
    block->push_back("activation",
                     torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(options_.leaky_slope())));
    features_->push_back(block);  // max pooling (no parameters) follows in encode()
    c = out;
    h /= options_.pool()[0];
    w /= options_.pool()[1];
    FINFUSE_CHECK(h >= 1 && w >= 1, "cnn encoder of modality '", this->spec().name, "': images of ",
                  this->spec().shape[1], "x", this->spec().shape[2], " are too small for ", options_.channels().size(),
                  " pooling blocks");
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(options_.dropout()));
  projection_ = register_module("projection", torch::nn::Linear(c * h * w, options_.output()));
  channels_ = c;
}

EncoderOutput CnnEncoderImpl::encode(const data::ModalityBatch& input) {
  check_input(input.values, false);
  torch::Tensor maps = input.values;
  for (const auto& block : *features_) {
    auto& layers = *block->as<torch::nn::SequentialImpl>();
    maps = nn::conv2d(maps, torch::nn::Conv2d(layers.ptr<torch::nn::Conv2dImpl>(0)));
    for (auto layer = std::next(layers.begin()); layer != layers.end(); ++layer) {  // batch norm, activation
      maps = layer->forward(maps);
    }
    maps = nn::max_pool2d(maps, options_.pool()[0], options_.pool()[1]);
  }  // [B, C', H', W']
  const auto features = nn::dropout(maps.flatten(1), dropout_->options.p(), dropout_->is_training());
  const auto pooled = nn::linear(features, projection_);
  const auto tokens = maps.flatten(2).transpose(1, 2);  // [B, H'W', C']
  return EncoderOutput{pooled, tokens, all_real(tokens)};
}

std::vector<std::vector<std::string>> CnnEncoderImpl::layers() const {
  std::vector<std::vector<std::string>> out;
  for (std::size_t i = 0; i < features_->size(); ++i) {
    out.push_back({fmt::format("features.{}.", i)});
  }
  return out;
}

void ResNetEncoderOptions::validate(const Config& config) const {
  if (depth() != 18 && depth() != 34) {
    config.fail_at("depth", fmt::format("must be 18 or 34, got {}", depth()));
  }
}

ResNetEncoderImpl::ResNetEncoderImpl(const ResNetEncoderOptions& options, ModalitySpec spec)
    : Encoder(std::move(spec)), options_(options) {
  check_image_spec(this->spec(), "resnet");
  const auto channels = this->spec().shape[0];
  FINFUSE_CHECK(channels == 1 || channels == 3, "resnet encoder of modality '", this->spec().name,
                "': expects 1 or 3 channels, got ", channels);
  conv1 = register_module(
      "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 64, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
  const std::vector<std::int64_t> blocks = options.depth() == 18 ? std::vector<std::int64_t>{2, 2, 2, 2}
                                                                 : std::vector<std::int64_t>{3, 4, 6, 3};
  std::int64_t in = 64;
  for (std::size_t stage = 0; stage < 4; ++stage) {
    const std::int64_t out = 64 << stage;
    torch::nn::Sequential layer;
    for (std::int64_t b = 0; b < blocks[stage]; ++b) {
      layer->push_back(BasicBlock(in, out, b == 0 && stage > 0 ? 2 : 1));
      in = out;
    }
    stages_.push_back(register_module("layer" + std::to_string(stage + 1), layer));
  }
  if (options.output() > 0) {
    projection_ = register_module("projection", torch::nn::Linear(512, options.output()));
  }
}

EncoderOutput ResNetEncoderImpl::encode(const data::ModalityBatch& input) {
  check_input(input.values, false);
  auto h = torch::relu(bn1->forward(conv1->forward(input.values)));
  h = torch::max_pool2d(h, 3, 2, 1);
  for (auto& stage : stages_) {
    h = stage->forward(h);
  }
  auto pooled = h.mean({2, 3});
  if (projection_) {
    pooled = projection_->forward(pooled);
  }
  const auto tokens = h.flatten(2).transpose(1, 2);
  return EncoderOutput{pooled, tokens, all_real(tokens)};
}

}  // namespace finfuse::encoders
