// Optimizers (registry "optimizer") over a model's named parameters, with parameter groups: each group picks
// parameters by name pattern and overrides options (a lower learning rate for a pretrained text encoder, no weight
// decay for biases). Typed in C++ or read from JSON:
//
//   TrainerOptions().optimizer(AdamWOptions().lr(1e-3).groups({ParameterGroup("encoders.text.*").set("lr", 2e-5)}))
//   {"type": "adamw", "lr": 1e-3, "weight_decay": 0.01,
//    "groups": [{"params": "encoders.text.*", "lr": 2e-5}, {"params": ["*.bias", "*norm*"], "weight_decay": 0}]}
//
// Built-ins: sgd, adam, adamw and rmsprop (LibTorch's), their options below. A parameter joins the first group whose
// pattern matches its name ('*' matches any run of characters); the others form the default group. Frozen parameters
// (requires_grad false) are left out.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/core/registry.h"

#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::training {

using NamedParameters = std::vector<std::pair<std::string, torch::Tensor>>;

/// A parameter group as the optimizers' `groups` field holds it: the name patterns of its parameters and the options
/// it overrides.
class ParameterGroup {
 public:
  explicit ParameterGroup(std::string pattern) : ParameterGroup(std::vector<std::string>{std::move(pattern)}) {}
  explicit ParameterGroup(std::vector<std::string> patterns);

  /// Overrides one of the optimizer's options for this group (checked when the optimizer is built).
  ParameterGroup& set(const std::string& option, Json value);

  /// {"params": [...], <overrides>}
  operator Json() const { return json_; }  // NOLINT: a group is an element of the JSON field `groups`

 private:
  Json json_;
};

// The parameter groups every optimizer takes.
#define FINFUSE_OPTIMIZER_GROUPS_FIELD(F)                                                                         \
  F(std::vector<::finfuse::Json>, groups, {}, ::finfuse::FieldRule(),                                            \
    "parameter groups: {\"params\": pattern or patterns, option overrides}; a parameter joins the first match")

/// torch::optim::SGD.
struct SgdOptions {
  static constexpr const char* kind = "sgd";
#define FINFUSE_SGD_FIELDS(F)                                                                                     \
  F(double, lr, 0.01, ::finfuse::Range::positive(), "learning rate")                                            \
  F(double, momentum, 0.0, ::finfuse::Range::half_open(0, 1), "momentum factor")                                 \
  F(double, dampening, 0.0, ::finfuse::Range::half_open(0, 1), "dampening of the momentum")                      \
  F(bool, nesterov, false, ::finfuse::FieldRule(), "Nesterov momentum (needs momentum > 0 and dampening 0)")      \
  F(double, weight_decay, 0.0, ::finfuse::Range::non_negative(), "L2 penalty")                                   \
  FINFUSE_OPTIMIZER_GROUPS_FIELD(F)
  FINFUSE_OPTIONS(SgdOptions, FINFUSE_SGD_FIELDS)
#undef FINFUSE_SGD_FIELDS
  void validate(const Config& config) const;
};

// Adam and AdamW share their fields; AdamW decays weights by default.
#define FINFUSE_ADAM_FIELDS(F, default_weight_decay, decay_doc)                                                   \
  F(double, lr, 1e-3, ::finfuse::Range::positive(), "learning rate")                                            \
  F(std::vector<double>, betas, (std::vector<double>{0.9, 0.999}), ::finfuse::FieldRule(::finfuse::Range::half_open(0, 1)).size(2), \
    "decay rates of the first and second moment estimates")                                                       \
  F(double, eps, 1e-8, ::finfuse::Range::positive(), "added to the denominator")                                 \
  F(double, weight_decay, default_weight_decay, ::finfuse::Range::non_negative(), decay_doc)                     \
  F(bool, amsgrad, false, ::finfuse::FieldRule(), "the AMSGrad variant")                                         \
  FINFUSE_OPTIMIZER_GROUPS_FIELD(F)

/// torch::optim::Adam.
struct AdamOptions {
  static constexpr const char* kind = "adam";
#define FINFUSE_ADAM_OPTIONS_FIELDS(F) FINFUSE_ADAM_FIELDS(F, 0.0, "L2 penalty added to the gradient")
  FINFUSE_OPTIONS(AdamOptions, FINFUSE_ADAM_OPTIONS_FIELDS)
#undef FINFUSE_ADAM_OPTIONS_FIELDS
};

/// torch::optim::AdamW.
struct AdamWOptions {
  static constexpr const char* kind = "adamw";
#define FINFUSE_ADAMW_OPTIONS_FIELDS(F) FINFUSE_ADAM_FIELDS(F, 0.01, "decoupled weight decay")
  FINFUSE_OPTIONS(AdamWOptions, FINFUSE_ADAMW_OPTIONS_FIELDS)
#undef FINFUSE_ADAMW_OPTIONS_FIELDS
};
#undef FINFUSE_ADAM_FIELDS

/// torch::optim::RMSprop.
struct RmspropOptions {
  static constexpr const char* kind = "rmsprop";
#define FINFUSE_RMSPROP_FIELDS(F)                                                                                 \
  F(double, lr, 0.01, ::finfuse::Range::positive(), "learning rate")                                            \
  F(double, alpha, 0.99, ::finfuse::Range::half_open(0, 1), "smoothing constant")                                \
  F(double, eps, 1e-8, ::finfuse::Range::positive(), "added to the denominator")                                 \
  F(double, momentum, 0.0, ::finfuse::Range::half_open(0, 1), "momentum factor")                                 \
  F(bool, centered, false, ::finfuse::FieldRule(), "normalise by the estimated variance of the gradient")         \
  F(double, weight_decay, 0.0, ::finfuse::Range::non_negative(), "L2 penalty")                                   \
  FINFUSE_OPTIMIZER_GROUPS_FIELD(F)
  FINFUSE_OPTIONS(RmspropOptions, FINFUSE_RMSPROP_FIELDS)
#undef FINFUSE_RMSPROP_FIELDS
};

/// An optimizer's typed options as the registry reads them: its fields plus "type".
template <typename Options>
Json optimizer_json(const Options& options) {
  return typed_json(Options::kind, options.to_json());
}

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

/// Reads the state that `optimizer.save()` wrote (one per parameter, and the parameter groups naming them) into
/// `optimizer`, whichever LibTorch wrote it: for SGD, Adam, AdamW and RMSprop the parameters' keys are read as the
/// opaque names they are (LibTorch 1.x wrote them as hexadecimal addresses, which LibTorch 2.x's own reader cannot
/// parse and turns into empty states); other optimizers use their own load(). The groups' options (learning rate,
/// weight decay) stay as the run configures them. finfuse::Error when the groups or their sizes differ.
void load_optimizer_state(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive);

}  // namespace finfuse::training
