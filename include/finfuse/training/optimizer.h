// Optimizers (registry "optimizer") from JSON over a model's named parameters, with parameter groups: each group
// picks parameters by name pattern and overrides options (a lower learning rate for a pretrained text encoder, no
// weight decay for biases).
//
//   {"type": "adamw", "lr": 1e-3, "weight_decay": 0.01,
//    "groups": [{"params": "encoders.text.*", "lr": 2e-5}, {"params": ["*.bias", "*norm*"], "weight_decay": 0}]}
//
// Built-ins: sgd {lr, momentum, dampening, nesterov, weight_decay}, adam and adamw {lr, betas, eps, weight_decay,
// amsgrad}, rmsprop {lr, alpha, eps, momentum, centered, weight_decay}. A parameter joins the first group whose
// pattern matches its name ('*' matches any run of characters); the others form the default group. Frozen parameters
// (requires_grad false) are left out.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/registry.h"

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::training {

using NamedParameters = std::vector<std::pair<std::string, torch::Tensor>>;

/// One parameter group: its parameters and, except for the default group, its configuration (the option overrides
/// next to "params").
struct ParameterGroupInput {
  std::optional<Config> overrides;
  std::vector<torch::Tensor> parameters;
};

/// A factory reads the optimizer's options (with the groups' overrides) and builds it over the groups.
using OptimizerRegistry = Registry<std::unique_ptr<torch::optim::Optimizer>(
    const Config& options, const std::vector<ParameterGroupInput>& groups)>;

OptimizerRegistry& optimizer_registry();

/// Builds the optimizer named by options["type"]; group options are validated at their JSON paths and a group that
/// matches no parameter is an error.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& options, const NamedParameters& parameters);

/// Whether `name` matches `pattern` ('*' matches any run of characters, everything else itself).
bool matches_pattern(const std::string& pattern, const std::string& name);

/// Learning rates of the optimizer's groups, in order.
std::vector<double> learning_rates(const torch::optim::Optimizer& optimizer);

}  // namespace finfuse::training
