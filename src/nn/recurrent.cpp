#include "finfuse/nn/recurrent.h"

#include "recurrent_kernels.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <vector>

namespace finfuse::nn {
namespace {

using Kernel = void (*)(const kernels::RecurrentLayer&, std::int64_t, std::int64_t, float*);

bool has_avx2_fma() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
#else
  return false;
#endif
}

torch::Tensor run(torch::nn::Module& module, const std::vector<torch::Tensor>& weights, const torch::Tensor& x,
                  std::int64_t layers, std::int64_t hidden, bool bidirectional, bool bias, bool batch_first,
                  double dropout, int gates, Kernel kernel) {
  const std::int64_t directions = bidirectional ? 2 : 1;
  const std::int64_t per_direction = bias ? 4 : 2;  // w_ih, w_hh[, b_ih, b_hh], in all_weights() order
  if (torch::GradMode::is_enabled() || !x.defined() || !x.is_cpu() || x.scalar_type() != at::kFloat ||
      x.dim() != 3 || !batch_first || (module.is_training() && dropout > 0.0 && layers > 1) || x.size(0) == 0 ||
      x.size(1) == 0 || static_cast<std::int64_t>(weights.size()) != layers * directions * per_direction ||
      std::any_of(weights.begin(), weights.end(),
                  [](const torch::Tensor& w) { return !w.is_cpu() || w.scalar_type() != at::kFloat; })) {
    return {};
  }
  const auto batch = x.size(0);
  const auto steps = x.size(1);
  torch::Tensor input = x.contiguous();
  for (std::int64_t l = 0; l < layers; ++l) {
    auto output = at::empty({batch, steps, directions * hidden}, x.options());
    for (std::int64_t d = 0; d < directions; ++d) {
      const auto* w = &weights[static_cast<std::size_t>((l * directions + d) * per_direction)];
      const auto& w_ih = w[0];
      const auto w_hh = w[1].contiguous();
      const auto b_ih = bias ? w[2] : torch::Tensor();
      const auto b_hh = bias ? w[3].contiguous() : torch::Tensor();
      if (w_ih.size(0) != gates * hidden || w_ih.size(1) != input.size(2) || w_hh.size(0) != gates * hidden ||
          w_hh.size(1) != hidden) {
        return {};
      }
      // The input projections of every step in one matrix product: [B * T, gates * hidden].
      const auto flat = input.view({batch * steps, input.size(2)});
      const auto input_gates = (bias ? at::addmm(b_ih, flat, w_ih.t()) : at::mm(flat, w_ih.t())).contiguous();
      const auto w_hh_t = w_hh.t().contiguous();
      kernels::RecurrentLayer layer;
      layer.input_gates = input_gates.data_ptr<float>();
      layer.weight_hh_t = w_hh_t.data_ptr<float>();
      const auto hidden_bias = bias ? b_hh : at::zeros({gates * hidden}, x.options());
      layer.bias_hh = hidden_bias.data_ptr<float>();
      layer.output = output.data_ptr<float>();
      layer.out_stride = directions * hidden;
      layer.out_offset = d * hidden;
      layer.steps = steps;
      layer.hidden = hidden;
      layer.reverse = d == 1;
      // Rows are independent: chunks of at least 8 on the intra-op threads.
      at::parallel_for(0, batch, 8, [&](std::int64_t begin, std::int64_t end) {
        std::vector<float> scratch(static_cast<std::size_t>((end - begin) * hidden * (2 + gates)));
        kernel(layer, begin, end, scratch.data());
      });
    }
    input = output;
  }
  return input;
}

}  // namespace

torch::Tensor fused_rnn_outputs(torch::nn::GRU gru, const torch::Tensor& x) {
  if (torch::GradMode::is_enabled()) {
    return {};  // before gathering the weights: training calls this at every step
  }
  const auto& o = gru->options;
  return run(*gru, gru->all_weights(), x, o.num_layers(), o.hidden_size(), o.bidirectional(), o.bias(),
             o.batch_first(), o.dropout(), 3,
             has_avx2_fma() ? &kernels::avx2::gru : &kernels::generic::gru);
}

torch::Tensor fused_rnn_outputs(torch::nn::LSTM lstm, const torch::Tensor& x) {
  const auto& o = lstm->options;
  if (torch::GradMode::is_enabled() || o.proj_size() > 0) {
    return {};
  }
  return run(*lstm, lstm->all_weights(), x, o.num_layers(), o.hidden_size(), o.bidirectional(), o.bias(),
             o.batch_first(), o.dropout(), 4,
             has_avx2_fma() ? &kernels::avx2::lstm : &kernels::generic::lstm);
}

}  // namespace finfuse::nn
