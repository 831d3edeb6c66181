#include "finfuse/nn/recurrent.h"

#include "recurrent_kernels.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <string>
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

// A float32 CPU parameter of the module by name, or undefined.
torch::Tensor parameter(const torch::OrderedDict<std::string, torch::Tensor>& parameters, const std::string& name) {
  const auto* found = parameters.find(name);
  if (found == nullptr || !found->is_cpu() || found->scalar_type() != at::kFloat) {
    return {};
  }
  return found->contiguous();
}

torch::Tensor run(torch::nn::Module& module, const torch::Tensor& x, std::int64_t layers, std::int64_t hidden,
                  bool bidirectional, bool bias, bool batch_first, double dropout, int gates, Kernel kernel) {
  if (torch::GradMode::is_enabled() || !x.defined() || !x.is_cpu() || x.scalar_type() != at::kFloat ||
      x.dim() != 3 || !batch_first || (module.is_training() && dropout > 0.0 && layers > 1) || x.size(0) == 0 ||
      x.size(1) == 0) {
    return {};
  }
  const auto parameters = module.named_parameters();
  const auto batch = x.size(0);
  const auto steps = x.size(1);
  const std::int64_t directions = bidirectional ? 2 : 1;
  torch::Tensor input = x.contiguous();
  for (std::int64_t l = 0; l < layers; ++l) {
    auto output = at::empty({batch, steps, directions * hidden}, x.options());
    for (std::int64_t d = 0; d < directions; ++d) {
      const std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      const auto w_ih = parameter(parameters, "weight_ih" + suffix);
      const auto w_hh = parameter(parameters, "weight_hh" + suffix);
      const auto b_ih = bias ? parameter(parameters, "bias_ih" + suffix) : torch::Tensor();
      const auto b_hh = bias ? parameter(parameters, "bias_hh" + suffix) : torch::Tensor();
      if (!w_ih.defined() || !w_hh.defined() || (bias && (!b_ih.defined() || !b_hh.defined())) ||
          w_ih.size(0) != gates * hidden || w_ih.size(1) != input.size(2) || w_hh.size(0) != gates * hidden ||
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
  const auto& o = gru->options;
  return run(*gru, x, o.num_layers(), o.hidden_size(), o.bidirectional(), o.bias(), o.batch_first(), o.dropout(), 3,
             has_avx2_fma() ? &kernels::avx2::gru : &kernels::generic::gru);
}

torch::Tensor fused_rnn_outputs(torch::nn::LSTM lstm, const torch::Tensor& x) {
  const auto& o = lstm->options;
  if (o.proj_size() > 0) {
    return {};
  }
  return run(*lstm, x, o.num_layers(), o.hidden_size(), o.bidirectional(), o.bias(), o.batch_first(), o.dropout(), 4,
             has_avx2_fma() ? &kernels::avx2::lstm : &kernels::generic::lstm);
}

}  // namespace finfuse::nn
