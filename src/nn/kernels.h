// Faster ways to compute three standard layers on CPU, with the same results as the layers' own forward(): LibTorch
// 1.13 picks slow kernels for some of the shapes finfuse's models run at. Measured on one core (2 vCPUs, OpenBLAS):
//   - a Linear on a single row goes through sgemm, which packs the whole weight matrix for that one row: 121 us for
//     7,680 -> 64, 2.1 us for 64 -> 64. A matrix-vector product (sgemv) takes 22 us and 1.1 us.
//   - max pooling without gradients, windows that do not overlap (MaxPool2d's default stride): 23 us for a 64 x 16 x 15
//     map with 2 x 1 windows, 4.2 ms at batch 64; as element-wise maxima of strided views 3 us and 0.13 ms.
//   - dropout in training draws its mask with bernoulli_, one element at a time on CPU: 6.6 ms for the chart encoder's
//     64 x 7,680 features at batch 64 (15% of the reference model's training step); uniform numbers compared with p
//     give the same distribution in 1.2 ms.
//   - a convolution of one image without gradients runs on ATen's own im2col + sgemm path (its heuristic keeps oneDNN
//     for batches): 157 us for 32 -> 64 channels, 5 x 3 kernel, 16 x 15 map; oneDNN 75-82 us.
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>

namespace finfuse::nn {

/// layer->forward(x); a single row (every dimension but the last of size 1) as a matrix-vector product.
torch::Tensor linear(const torch::Tensor& x, torch::nn::Linear layer);

/// Max pooling over non-overlapping `height` x `width` windows (stride = window, no padding, the remainder rows and
/// columns dropped) of x [B, C, H, W], as torch::nn::MaxPool2d computes it (NaN propagates); with gradients, LibTorch's
/// own kernel.
torch::Tensor max_pool2d(const torch::Tensor& x, std::int64_t height, std::int64_t width);

/// Dropout: in training each element is kept with probability 1 - p and scaled by 1 / (1 - p), the mask drawn from
/// LibTorch's default generator (seeded runs repeat); outside training, or with p = 0, x itself. CPU tensors get a mask
/// of uniform numbers compared with p, others LibTorch's dropout.
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

/// conv->forward(x); a single float32 CPU image without gradients through oneDNN when the convolution is big enough
/// to gain from it (at least 64 multiply-adds per output value) and LibTorch was built with oneDNN.
torch::Tensor conv2d(const torch::Tensor& x, torch::nn::Conv2d conv);

}  // namespace finfuse::nn
