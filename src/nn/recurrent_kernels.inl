// The body of recurrent_kernels_{generic,avx2}.cpp: FINFUSE_KERNEL_NS names the namespace of one compilation. Plain
// loops that the compiler vectorises (for the instruction set of that compilation). Nothing here may instantiate a
// template or inline function that another translation unit also instantiates (std::vector, std::copy, ...): the
// linker keeps one copy of such code for the whole program, and an AVX2 copy would then run on processors without
// AVX2. Only functions of internal linkage besides the two entry points, and no standard library but memcpy.
#include "recurrent_kernels.h"

#include <cstdint>
#include <cstring>

namespace finfuse::nn::kernels::FINFUSE_KERNEL_NS {
namespace {

// exp(x) in float: Cephes' expf (range reduction by ln 2 in two parts, a degree-6 polynomial, relative error about
// 2e-7), written without branches so that the loops calling it vectorise. The argument saturates below -87.3 and above
// 88.3; NaN propagates (it is computed as 0 and put back at the end, as a float-to-int conversion of NaN is undefined).
inline float exp_approx(float x) {
  const bool is_nan = __builtin_isnan(x);
  float v = is_nan ? 0.0F : x;
  v = v < -87.3F ? -87.3F : v;
  v = v > 88.3F ? 88.3F : v;
  const float t = v * 1.44269504088896341F + 0.5F;
  std::int32_t n = static_cast<std::int32_t>(t);
  n -= static_cast<std::int32_t>(static_cast<float>(n) > t);  // floor
  const float fn = static_cast<float>(n);
  float r = v - fn * 0.693359375F;
  r -= fn * -2.12194440e-4F;
  float p = 1.9875691500e-4F;
  p = p * r + 1.3981999507e-3F;
  p = p * r + 8.3334519073e-3F;
  p = p * r + 4.1665795894e-2F;
  p = p * r + 1.6666665459e-1F;
  p = p * r + 5.0000001201e-1F;
  p = p * r * r + r + 1.0F;
  const std::int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float result = p * scale;
  return is_nan ? x : result;
}

inline float sigmoid(float x) { return 1.0F / (1.0F + exp_approx(-x)); }

inline float tanh_approx(float x) {
  // sign(x) (1 - 2 / (e^{2|x|} + 1)): no overflow, absolute error below 1e-6.
  const float magnitude = 1.0F - 2.0F / (exp_approx(2.0F * __builtin_fabsf(x)) + 1.0F);
  return __builtin_copysignf(magnitude, x);
}

// Eight floats in one register (two SSE registers in the generic build), with unaligned loads and stores.
typedef float Vec8 __attribute__((vector_size(32)));

inline Vec8 load8(const float* p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store8(float* p, Vec8 v) { std::memcpy(p, &v, sizeof v); }

// gates[r, j0 .. j0 + 16) = bias + h[r] W_hh^T for Rows consecutive rows: 2 x Rows accumulators stay in registers over
// the whole hidden dimension, and each load of 16 weights feeds every row.
template <int Rows>
void block_product(const float* __restrict h, const float* __restrict weight_t, const float* __restrict bias,
                   float* __restrict gates, std::int64_t hidden, std::int64_t width, std::int64_t j0) {
  Vec8 low[Rows];
  Vec8 high[Rows];
  for (int r = 0; r < Rows; ++r) {
    low[r] = load8(bias + j0);
    high[r] = load8(bias + j0 + 8);
  }
  for (std::int64_t k = 0; k < hidden; ++k) {
    const Vec8 w_low = load8(weight_t + k * width + j0);
    const Vec8 w_high = load8(weight_t + k * width + j0 + 8);
    for (int r = 0; r < Rows; ++r) {
      const float hk = h[r * hidden + k];
      low[r] += w_low * hk;
      high[r] += w_high * hk;
    }
  }
  for (int r = 0; r < Rows; ++r) {
    store8(gates + r * width + j0, low[r]);
    store8(gates + r * width + j0 + 8, high[r]);
  }
}

// gates[r] = bias + h[r] W_hh^T for rows 0 .. rows, with weight_t = W_hh^T [hidden, width] row-major and bias never
// null: blocks of up to 4 rows x 16 gates, the last gates (beyond a multiple of 16) one at a time.
void hidden_product(const float* __restrict h, const float* __restrict weight_t, const float* __restrict bias,
                    float* __restrict gates, std::int64_t rows, std::int64_t hidden, std::int64_t width) {
  const std::int64_t full_columns = width - width % 16;
  for (std::int64_t r0 = 0; r0 < rows; r0 += 4) {
    const auto block_rows = rows - r0 < 4 ? rows - r0 : 4;
    const float* hr = h + r0 * hidden;
    float* gr = gates + r0 * width;
    for (std::int64_t j0 = 0; j0 < full_columns; j0 += 16) {
      switch (block_rows) {
        case 4:
          block_product<4>(hr, weight_t, bias, gr, hidden, width, j0);
          break;
        case 3:
          block_product<3>(hr, weight_t, bias, gr, hidden, width, j0);
          break;
        case 2:
          block_product<2>(hr, weight_t, bias, gr, hidden, width, j0);
          break;
        default:
          block_product<1>(hr, weight_t, bias, gr, hidden, width, j0);
          break;
      }
    }
    for (std::int64_t r = 0; r < block_rows; ++r) {
      for (std::int64_t j = full_columns; j < width; ++j) {
        float sum = bias[j];
        for (std::int64_t k = 0; k < hidden; ++k) {
          sum += hr[r * hidden + k] * weight_t[k * width + j];
        }
        gr[r * width + j] = sum;
      }
    }
  }
}

template <int Gates, typename Cell>
void recur(const RecurrentLayer& layer, std::int64_t begin, std::int64_t end, float* scratch, Cell&& cell) {
  const auto rows = end - begin;
  const auto hidden = layer.hidden;
  const auto width = Gates * hidden;
  if (rows <= 0 || layer.steps <= 0) {
    return;
  }
  float* h = scratch;
  float* c = h + rows * hidden;
  float* gates = c + rows * hidden;
  for (std::int64_t k = 0; k < 2 * rows * hidden; ++k) {
    h[k] = 0.0F;  // zero initial hidden and cell states
  }
  for (std::int64_t s = 0; s < layer.steps; ++s) {
    const auto t = layer.reverse ? layer.steps - 1 - s : s;
    hidden_product(h, layer.weight_hh_t, layer.bias_hh, gates, rows, hidden, width);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto b = begin + r;
      float* state = h + r * hidden;
      cell(layer.input_gates + (b * layer.steps + t) * width, gates + r * width, state, c + r * hidden);
      std::memcpy(layer.output + (b * layer.steps + t) * layer.out_stride + layer.out_offset, state,
                  static_cast<std::size_t>(hidden) * sizeof(float));
    }
  }
}

}  // namespace

void gru(const RecurrentLayer& layer, std::int64_t begin, std::int64_t end, float* scratch) {
  const auto n = layer.hidden;
  // PyTorch's GRU: r = s(x_r + h_r), z = s(x_z + h_z), n = tanh(x_n + r h_n), h' = n + z (h - n).
  recur<3>(layer, begin, end, scratch,
           [n](const float* __restrict x, const float* __restrict g, float* __restrict h, float* /*cell*/) {
             for (std::int64_t j = 0; j < n; ++j) {
               const float reset = sigmoid(x[j] + g[j]);
               const float update = sigmoid(x[n + j] + g[n + j]);
               const float candidate = tanh_approx(x[2 * n + j] + reset * g[2 * n + j]);
               h[j] = candidate + update * (h[j] - candidate);
             }
           });
}

void lstm(const RecurrentLayer& layer, std::int64_t begin, std::int64_t end, float* scratch) {
  const auto n = layer.hidden;
  // PyTorch's LSTM: i, f, o = s(.), g = tanh(.), c' = f c + i g, h' = o tanh(c').
  recur<4>(layer, begin, end, scratch,
           [n](const float* __restrict x, const float* __restrict g, float* __restrict h, float* __restrict c) {
             for (std::int64_t j = 0; j < n; ++j) {
               const float in = sigmoid(x[j] + g[j]);
               const float forget = sigmoid(x[n + j] + g[n + j]);
               const float cell = tanh_approx(x[2 * n + j] + g[2 * n + j]);
               const float out = sigmoid(x[3 * n + j] + g[3 * n + j]);
               c[j] = forget * c[j] + in * cell;
               h[j] = out * tanh_approx(c[j]);
             }
           });
}

}  // namespace finfuse::nn::kernels::FINFUSE_KERNEL_NS
