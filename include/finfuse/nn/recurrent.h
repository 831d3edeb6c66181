// Fused recurrent inference: the outputs of a torch::nn::GRU or LSTM without LibTorch's per-step operators.
//
// LibTorch runs a recurrent layer as about fifteen operators per time step (a matrix product, chunks, sigmoids,
// tanh, element-wise updates), so at the small batches of serving the dispatcher, not the arithmetic, sets the time:
// a GRU of 64 over 5 tweets x 16 words takes 205 us on one core. finfuse's kernel computes the input projections of
// every step in one matrix product and then runs the recurrence as one loop (the hidden-state product and the gates,
// vectorised, AVX2 + FMA where the processor has them): 61 us, and 1.6x faster at batch 64. Batch rows are independent,
// so they are split over the intra-op threads.
#pragma once

#include <torch/nn/modules/rnn.h>

namespace finfuse::nn {

/// The outputs (first element of forward(x)) of `gru` on x [B, T, F], computed by the fused kernel, or an undefined
/// tensor where it does not apply: gradients enabled, not float32 on CPU, not batch_first, or dropout between layers in
/// training mode. Zero initial states, as forward(x). Agrees with LibTorch to float32 rounding (tested to 1e-5).
torch::Tensor fused_rnn_outputs(torch::nn::GRU gru, const torch::Tensor& x);

/// The same for an LSTM (not with a projection, proj_size > 0).
torch::Tensor fused_rnn_outputs(torch::nn::LSTM lstm, const torch::Tensor& x);

}  // namespace finfuse::nn
