// The recurrence of one GRU or LSTM layer in one direction over a batch, for inference: the hidden-to-hidden product
// of every step and the gates in one loop, vectorised by the compiler. Compiled twice, for the build's target (SSE2 on
// x86-64) and for AVX2 + FMA; finfuse::nn (recurrent.cpp) picks one by what the processor has. Internal.
#pragma once

#include <cstdint>

namespace finfuse::nn::kernels {

struct RecurrentLayer {
  /// The input projections of every step, x W_ih^T + b_ih: [batch, steps, gates * hidden] (3 gates GRU, 4 LSTM).
  const float* input_gates = nullptr;
  /// W_hh transposed, [hidden, gates * hidden] row-major, and b_hh [gates * hidden] (zeros without bias).
  const float* weight_hh_t = nullptr;
  const float* bias_hh = nullptr;
  /// Outputs [batch, steps, out_stride]: this direction writes columns out_offset .. out_offset + hidden.
  float* output = nullptr;
  std::int64_t out_stride = 0;
  std::int64_t out_offset = 0;
  std::int64_t steps = 0;
  std::int64_t hidden = 0;
  /// Runs from the last step to the first (the backward direction of a bidirectional layer).
  bool reverse = false;
};

// Rows begin .. end of the batch, from zero initial states (as torch::nn::GRU / LSTM's forward(x)), with
// (end - begin) * hidden * (2 + gates) floats of scratch memory. (No inline functions in this header: it is compiled
// with different instruction sets.)
namespace generic {
void gru(const RecurrentLayer& layer, std::int64_t begin, std::int64_t end, float* scratch);
void lstm(const RecurrentLayer& layer, std::int64_t begin, std::int64_t end, float* scratch);
}  // namespace generic

namespace avx2 {
void gru(const RecurrentLayer& layer, std::int64_t begin, std::int64_t end, float* scratch);
void lstm(const RecurrentLayer& layer, std::int64_t begin, std::int64_t end, float* scratch);
}  // namespace avx2

}  // namespace finfuse::nn::kernels
