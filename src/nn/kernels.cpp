#include "kernels.h"

#include "finfuse/core/check.h"

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/version.h>

#include <variant>

namespace finfuse::nn {
namespace {

// Module options hold std::variant since LibTorch 2.0, c10::variant before.
#if TORCH_VERSION_MAJOR >= 2
namespace variants = std;
#else
namespace variants = c10;
#endif

}  // namespace

torch::Tensor linear(const torch::Tensor& x, torch::nn::Linear layer) {
  const auto& weight = layer->weight;
  if (x.dim() < 1 || x.numel() != x.size(-1) || !x.is_cpu() || x.size(-1) != weight.size(1)) {
    return layer->forward(x);
  }
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  const auto row = x.reshape({x.size(-1)});
  const auto out = layer->bias.defined() ? at::addmv(layer->bias, weight, row) : at::mv(weight, row);
  return out.view(sizes);
}

torch::Tensor max_pool2d(const torch::Tensor& x, std::int64_t height, std::int64_t width) {
  FINFUSE_CHECK(x.dim() == 4, "max_pool2d: expected [B, C, H, W], got ", x.dim(), " dimensions");
  FINFUSE_CHECK(height >= 1 && width >= 1, "max_pool2d: windows of ", height, " x ", width);
  const auto rows = x.size(2) / height;
  const auto columns = x.size(3) / width;
  FINFUSE_CHECK(rows >= 1 && columns >= 1, "max_pool2d: a ", x.size(2), " x ", x.size(3), " map is smaller than a ",
                height, " x ", width, " window");
  if (torch::GradMode::is_enabled() && x.requires_grad()) {
    // Training: LibTorch's kernel and its backward (a chain of element-wise selections with their backward was
    // slower: 5.1 ms against 3.4 for a 64 x 32 x 32 x 15 batch, forward and backward).
    return at::max_pool2d(x, {height, width});
  }
  if (height == 1 && width == 1) {
    return x;
  }
  // [B, C, rows, height, columns, width]: element (i, j) of every window is one strided view.
  const auto windows = x.narrow(2, 0, rows * height)
                           .narrow(3, 0, columns * width)
                           .unflatten(3, {columns, width})
                           .unflatten(2, {rows, height});
  torch::Tensor best = windows.select(5, 0).select(3, 0);
  for (std::int64_t i = 0; i < height; ++i) {
    for (std::int64_t j = 0; j < width; ++j) {
      if (i != 0 || j != 0) {
        best = at::maximum(best, windows.select(5, j).select(3, i));  // NaN propagates
      }
    }
  }
  return best;
}

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  FINFUSE_CHECK(p >= 0.0 && p <= 1.0, "dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0.0) {
    return x;
  }
  if (!x.is_cpu() || p == 1.0) {
    return at::dropout(x, p, true);
  }
  const auto keep = (at::rand_like(x) >= p).to(x.scalar_type()).mul_(1.0 / (1.0 - p));
  return x * keep;
}

torch::Tensor conv2d(const torch::Tensor& x, torch::nn::Conv2d conv) {
  const auto& weight = conv->weight;
  const auto& options = conv->options;
  const bool single = x.dim() == 4 && x.size(0) == 1;
  const bool small_work = weight.size(1) * weight.size(2) * weight.size(3) < 64;
  if (!single || small_work || torch::GradMode::is_enabled() || !x.is_cpu() || x.scalar_type() != at::kFloat ||
      weight.scalar_type() != at::kFloat || !at::hasMKLDNN() || !at::globalContext().userEnabledMkldnn() ||
      !variants::holds_alternative<torch::ExpandingArray<2>>(options.padding()) ||
      !variants::get_if<torch::enumtype::kZeros>(&options.padding_mode()) || options.transposed()) {
    return conv->forward(x);
  }
  const auto& padding = variants::get<torch::ExpandingArray<2>>(options.padding());
  return at::mkldnn_convolution(x.contiguous(), weight, conv->bias.defined() ? c10::optional<at::Tensor>(conv->bias)
                                                                             : c10::nullopt,
                                *padding, *options.stride(), *options.dilation(), options.groups());
}

}  // namespace finfuse::nn
