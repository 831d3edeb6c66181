// finfuse's own kernels against LibTorch's modules computing the same thing.
#include "nn/kernels.h"
#include "finfuse/nn/recurrent.h"

#include "core/intra_op_threads.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/pooling.h>
#include <torch/torch.h>

#include <limits>

namespace finfuse::nn {
namespace {

float max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<float>();
}

TEST(FusedRnn, GruMatchesLibTorchForEveryLayout) {
  torch::manual_seed(3);
  torch::NoGradGuard no_grad;
  for (const std::int64_t layers : {1, 2}) {
    for (const bool bidirectional : {false, true}) {
      for (const bool bias : {true, false}) {
        torch::nn::GRU gru(
            torch::nn::GRUOptions(7, 13).num_layers(layers).bidirectional(bidirectional).bias(bias).batch_first(true));
        gru->eval();
        for (const std::int64_t batch : {1, 5, 37}) {  // 37 rows: several chunks on the intra-op threads
          const auto x = torch::randn({batch, 9, 7}) * 3;
          const auto fused = fused_rnn_outputs(gru, x);
          ASSERT_TRUE(fused.defined());
          const auto reference = std::get<0>(gru->forward(x));
          ASSERT_EQ(fused.sizes(), reference.sizes());
          EXPECT_LT(max_difference(fused, reference), 1e-5)
              << "layers " << layers << ", bidirectional " << bidirectional << ", bias " << bias << ", batch " << batch;
        }
      }
    }
  }
}

TEST(FusedRnn, LstmMatchesLibTorchForEveryLayout) {
  torch::manual_seed(4);
  torch::NoGradGuard no_grad;
  for (const std::int64_t layers : {1, 3}) {
    for (const bool bidirectional : {false, true}) {
      torch::nn::LSTM lstm(torch::nn::LSTMOptions(11, 64).num_layers(layers).bidirectional(bidirectional).batch_first(true));
      lstm->eval();
      for (const std::int64_t batch : {1, 64}) {
        const auto x = torch::randn({batch, 5, 11}) * 4;  // large inputs saturate the gates
        const auto fused = fused_rnn_outputs(lstm, x);
        ASSERT_TRUE(fused.defined());
        EXPECT_LT(max_difference(fused, std::get<0>(lstm->forward(x))), 1e-5)
            << "layers " << layers << ", bidirectional " << bidirectional << ", batch " << batch;
      }
    }
  }
}

TEST(FusedRnn, SameResultOnOneThreadAndOnSeveral) {
  torch::manual_seed(5);
  torch::NoGradGuard no_grad;
  torch::nn::GRU gru(torch::nn::GRUOptions(8, 16).batch_first(true));
  const auto x = torch::randn({40, 6, 8});
  const auto many = fused_rnn_outputs(gru, x);
  const ScopedIntraOpThreads one(1);
  EXPECT_TRUE(torch::equal(fused_rnn_outputs(gru, x), many));  // rows are independent: bit for bit
}

TEST(FusedRnn, StaysOutOfTheWayWhereItDoesNotApply) {
  torch::nn::GRU gru(torch::nn::GRUOptions(4, 8).batch_first(true));
  const auto x = torch::randn({2, 3, 4});
  EXPECT_FALSE(fused_rnn_outputs(gru, x).defined()) << "gradients are enabled";
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(fused_rnn_outputs(gru, x.to(torch::kFloat64)).defined());
  EXPECT_FALSE(fused_rnn_outputs(gru, x.transpose(0, 1).contiguous().view({3, 2, 4}).unsqueeze(0)).defined());
  torch::nn::GRU time_major(torch::nn::GRUOptions(4, 8));
  EXPECT_FALSE(fused_rnn_outputs(time_major, x).defined());
  torch::nn::GRU with_dropout(torch::nn::GRUOptions(4, 8).num_layers(2).dropout(0.5).batch_first(true));
  EXPECT_FALSE(fused_rnn_outputs(with_dropout, x).defined()) << "training mode with dropout between layers";
  with_dropout->eval();
  EXPECT_TRUE(fused_rnn_outputs(with_dropout, x).defined());
  torch::nn::LSTM projected(torch::nn::LSTMOptions(4, 8).proj_size(3).batch_first(true));
  EXPECT_FALSE(fused_rnn_outputs(projected, x).defined());
}

TEST(FusedRnn, NanAndExtremeInputsBehaveAsLibTorch) {
  torch::manual_seed(6);
  torch::NoGradGuard no_grad;
  torch::nn::GRU gru(torch::nn::GRUOptions(3, 5).batch_first(true));
  auto x = torch::randn({3, 4, 3});
  x[0][1][2] = std::numeric_limits<float>::quiet_NaN();
  x[1][0][0] = 1e30F;
  x[2][2][1] = -1e30F;
  const auto fused = fused_rnn_outputs(gru, x);
  const auto reference = std::get<0>(gru->forward(x));
  EXPECT_TRUE(torch::equal(fused.isnan(), reference.isnan()));
  const auto finite = ~reference.isnan();
  EXPECT_LT(max_difference(fused.masked_select(finite), reference.masked_select(finite)), 1e-5);
}

TEST(Kernels, LinearOnOneRowMatchesTheModule) {
  torch::manual_seed(7);
  torch::nn::Linear layer(300, 17);
  for (const auto& shape : std::vector<std::vector<std::int64_t>>{{1, 300}, {300}, {1, 1, 300}, {4, 300}}) {
    const auto x = torch::randn(shape, torch::requires_grad());
    const auto fused = linear(x, layer);
    const auto reference = layer->forward(x);
    ASSERT_EQ(fused.sizes(), reference.sizes());
    EXPECT_LT(max_difference(fused, reference), 1e-5);
    // Gradients flow as through the module.
    const auto g_fused = torch::autograd::grad({fused.sum()}, {x, layer->weight});
    const auto g_reference = torch::autograd::grad({reference.sum()}, {x, layer->weight});
    EXPECT_LT(max_difference(g_fused[0], g_reference[0]), 1e-5);
    EXPECT_LT(max_difference(g_fused[1], g_reference[1]), 1e-5);
  }
  torch::nn::Linear no_bias(torch::nn::LinearOptions(8, 3).bias(false));
  const auto x = torch::randn({1, 8});
  EXPECT_LT(max_difference(linear(x, no_bias), no_bias->forward(x)), 1e-6);
}

TEST(Kernels, MaxPoolMatchesMaxPool2dIncludingGradientsAndTies) {
  torch::manual_seed(8);
  for (const auto& window : std::vector<std::pair<std::int64_t, std::int64_t>>{{2, 1}, {2, 2}, {3, 2}, {1, 3}}) {
    torch::nn::MaxPool2d pool(torch::nn::MaxPool2dOptions({window.first, window.second}));
    // Rounded values make ties common, as in black-and-white chart images; 11 x 7 leaves remainders.
    const auto values = (torch::randn({2, 3, 11, 7}) * 2).round();
    const auto x = values.clone().requires_grad_(true);
    const auto y = values.clone().requires_grad_(true);
    const auto ours = max_pool2d(x, window.first, window.second);
    const auto theirs = pool->forward(y);
    ASSERT_EQ(ours.sizes(), theirs.sizes());
    EXPECT_TRUE(torch::equal(ours, theirs));
    const auto upstream = torch::randn(ours.sizes());
    ours.backward(upstream);
    theirs.backward(upstream);
    EXPECT_TRUE(torch::equal(x.grad(), y.grad())) << "the first maximum of a window takes the gradient";
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(max_pool2d(values, window.first, window.second), pool->forward(values)));
  }
  auto with_nan = torch::zeros({1, 1, 2, 2});
  with_nan[0][0][1][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(max_pool2d(with_nan, 2, 1)[0][0][0][0].isnan().item<bool>());
  EXPECT_THROW(max_pool2d(torch::zeros({1, 1, 1, 4}), 2, 1), std::exception);
}

TEST(Kernels, DropoutKeepsOneMinusPScaledAndRepeatsWithTheSeed) {
  const auto x = torch::ones({200, 500}, torch::requires_grad());
  torch::manual_seed(10);
  const auto y = finfuse::nn::dropout(x, 0.3, true);
  const auto kept = (y != 0).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(kept, 0.7, 0.01);  // 100,000 draws: the standard error is 0.0015
  EXPECT_TRUE(torch::allclose(y.masked_select(y != 0), torch::full({1}, 1.0 / 0.7)));
  y.sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), y.detach()));  // the gradient is the same mask and scale
  torch::manual_seed(10);
  EXPECT_TRUE(torch::equal(finfuse::nn::dropout(x, 0.3, true), y));
  EXPECT_TRUE(torch::equal(finfuse::nn::dropout(x, 0.3, false), x));
  EXPECT_TRUE(torch::equal(finfuse::nn::dropout(x, 0.0, true), x));
  EXPECT_EQ(finfuse::nn::dropout(x, 1.0, true).abs().sum().item<float>(), 0.0F);
  EXPECT_THROW(finfuse::nn::dropout(x, 1.5, true), std::exception);
}

TEST(Kernels, ConvolutionOfOneImageMatchesTheModule) {
  torch::manual_seed(9);
  torch::NoGradGuard no_grad;
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(32, 64, {5, 3}).padding({2, 1}));
  const auto x = torch::randn({1, 32, 16, 15});
  EXPECT_LT(max_difference(conv2d(x, conv), conv->forward(x)), 1e-4);
  torch::nn::Conv2d small(torch::nn::Conv2dOptions(1, 8, 3).padding(1));  // left to the module
  const auto image = torch::randn({1, 1, 9, 9});
  EXPECT_TRUE(torch::equal(conv2d(image, small), small->forward(image)));
}

}  // namespace
}  // namespace finfuse::nn
