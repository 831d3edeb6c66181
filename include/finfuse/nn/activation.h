// Activation functions by name ("relu", "gelu", ...): a registry family, so a configuration names the
// activation and users can add their own.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/registry.h"

#include <torch/nn/modules/container/any.h>

#include <string>

namespace finfuse::nn {

using ActivationRegistry = Registry<torch::nn::AnyModule()>;

/// The activation registry. Built-ins: identity, relu, leaky_relu (slope 0.01), gelu, tanh, sigmoid, silu,
/// elu, softplus.
ActivationRegistry& activation_registry();

/// Reads an activation name from `config[key]` (default `fallback`); an unregistered name is a ConfigError at the key
/// that lists the registered ones.
std::string read_activation(const Config& config, const std::string& key, const std::string& fallback);

/// A new activation module. Throws RegistryError for an unknown name.
torch::nn::AnyModule make_activation(const std::string& name);

}  // namespace finfuse::nn
