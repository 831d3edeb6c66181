#include "finfuse/nn/activation.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include <fmt/format.h>

namespace finfuse::nn {
namespace {

void register_builtin_activations(ActivationRegistry& registry) {
  registry.add("identity", [] { return torch::nn::AnyModule(torch::nn::Identity()); });
  registry.add("relu", [] { return torch::nn::AnyModule(torch::nn::ReLU()); });
  registry.add("leaky_relu", [] {
    return torch::nn::AnyModule(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.01)));
  });
  registry.add("gelu", [] { return torch::nn::AnyModule(torch::nn::GELU()); });
  registry.add("tanh", [] { return torch::nn::AnyModule(torch::nn::Tanh()); });
  registry.add("sigmoid", [] { return torch::nn::AnyModule(torch::nn::Sigmoid()); });
  registry.add("silu", [] { return torch::nn::AnyModule(torch::nn::SiLU()); });
  registry.add("elu", [] { return torch::nn::AnyModule(torch::nn::ELU()); });
  registry.add("softplus", [] { return torch::nn::AnyModule(torch::nn::Softplus()); });
}

}  // namespace

ActivationRegistry& activation_registry() {
  static ActivationRegistry registry("activation", register_builtin_activations);
  return registry;
}

std::string read_activation(const Config& config, const std::string& key, const std::string& fallback) {
  const std::string name = config.get<std::string>(key, fallback);
  if (!activation_registry().contains(name)) {
    const auto known = activation_registry().names();
    config.fail_at(key, fmt::format("unknown activation '{}'{}; registered: {}", name, did_you_mean(name, known),
                                    quoted_list(known)));
  }
  return name;
}

torch::nn::AnyModule make_activation(const std::string& name) { return activation_registry().create(name); }

}  // namespace finfuse::nn
