#include "finfuse/encoders/tcn_encoder.h"

#include "finfuse/core/check.h"

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/functional/activation.h>

namespace finfuse::encoders {
namespace {

// conv -> ReLU -> dropout, twice, with left-only (causal) padding, plus a residual connection.
class CausalBlockImpl : public torch::nn::Module {
 public:
  CausalBlockImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t dilation, double dropout)
      : padding_((kernel - 1) * dilation) {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, kernel).dilation(dilation)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(out, out, kernel).dilation(dilation)));
    dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
    if (in != out) {
      downsample = register_module("downsample", torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1)));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {  // [B, C, L]
    const auto causal = [this](const torch::Tensor& h) {
      return torch::constant_pad_nd(h, {padding_, 0});
    };
    auto h = dropout_->forward(torch::relu(conv1->forward(causal(x))));
    h = dropout_->forward(torch::relu(conv2->forward(causal(h))));
    return torch::relu(h + (downsample ? downsample->forward(x) : x));
  }

  torch::nn::Conv1d conv1{nullptr};
  torch::nn::Conv1d conv2{nullptr};
  torch::nn::Conv1d downsample{nullptr};

 private:
  std::int64_t padding_;
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(CausalBlock);

}  // namespace

TcnEncoderImpl::TcnEncoderImpl(const TcnEncoderOptions& options, ModalitySpec spec)
    : Encoder(std::move(spec)), options_(options) {
  FINFUSE_CHECK(this->spec().shape.size() == 2 && this->spec().vocab_size == 0, "tcn encoder of modality '",
                this->spec().name, "': expects a float sequence [L, F] per sample");
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  std::int64_t in = this->spec().shape[1];
  std::int64_t dilation = 1;
  for (const auto out : options.channels()) {
    blocks_->push_back(CausalBlock(in, out, options.kernel_size(), dilation, options.dropout()));
    in = out;
    dilation *= 2;
  }
}

EncoderOutput TcnEncoderImpl::encode(const data::ModalityBatch& input) {
  check_input(input.values, false);
  torch::Tensor h = input.values.transpose(1, 2);  // [B, F, L]
  for (const auto& block : *blocks_) {
    h = block->as<CausalBlockImpl>()->forward(h);
  }
  const auto tokens = h.transpose(1, 2);  // [B, L, C]
  const auto pooled = options_.pooling() == "last" ? tokens.select(1, -1) : tokens.mean(1);
  return EncoderOutput{pooled, tokens, all_real(tokens)};
}

}  // namespace finfuse::encoders
