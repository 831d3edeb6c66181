#include "finfuse/nn/activation.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

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

torch::nn::AnyModule make_activation(const std::string& name) { return activation_registry().create(name); }

}  // namespace finfuse::nn
