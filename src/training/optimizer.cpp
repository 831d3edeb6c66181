#include "finfuse/training/optimizer.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/suggest.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>
#include <torch/version.h>

#include <fmt/format.h>

#include <map>
#include <memory>
#include <tuple>

namespace finfuse::training {
namespace {

torch::optim::SGDOptions to_torch(const SgdOptions& o) {
  return torch::optim::SGDOptions(o.lr())
      .momentum(o.momentum())
      .dampening(o.dampening())
      .nesterov(o.nesterov())
      .weight_decay(o.weight_decay());
}

template <typename TorchOptions, typename Options>
TorchOptions adam_to_torch(const Options& o) {
  return TorchOptions(o.lr())
      .betas(std::make_tuple(o.betas()[0], o.betas()[1]))
      .eps(o.eps())
      .weight_decay(o.weight_decay())
      .amsgrad(o.amsgrad());
}
torch::optim::AdamOptions to_torch(const AdamOptions& o) { return adam_to_torch<torch::optim::AdamOptions>(o); }
torch::optim::AdamWOptions to_torch(const AdamWOptions& o) { return adam_to_torch<torch::optim::AdamWOptions>(o); }

torch::optim::RMSpropOptions to_torch(const RmspropOptions& o) {
  return torch::optim::RMSpropOptions(o.lr())
      .alpha(o.alpha())
      .eps(o.eps())
      .momentum(o.momentum())
      .centered(o.centered())
      .weight_decay(o.weight_decay());
}

// A factory for optimizer Opt: the options read from the configuration, each group's overrides read over them.
template <typename Opt, typename Options>
void add_optimizer(OptimizerRegistry& registry) {
  registry.add(
      Options::kind,
      [](const Config& config, const std::vector<ParameterGroupInput>& groups) {
        const Options base = Options::from_config(config);
        using TorchOptions = decltype(to_torch(base));
        std::vector<torch::optim::OptimizerParamGroup> param_groups;
        for (const auto& g : groups) {
          Options o = base;
          if (g.overrides) {
            g.overrides->contains("params");
            if (g.overrides->contains("groups")) {
              g.overrides->fail_at("groups", "a parameter group cannot hold groups");
            }
            o = Options::from_config(*g.overrides, base);
          }
          param_groups.emplace_back(g.parameters, std::make_unique<TorchOptions>(to_torch(o)));
        }
        return std::unique_ptr<torch::optim::Optimizer>(std::make_unique<Opt>(param_groups, to_torch(base)));
      },
      Options::fields());
}

void register_builtin_optimizers(OptimizerRegistry& registry) {
  add_optimizer<torch::optim::SGD, SgdOptions>(registry);
  add_optimizer<torch::optim::Adam, AdamOptions>(registry);
  add_optimizer<torch::optim::AdamW, AdamWOptions>(registry);
  add_optimizer<torch::optim::RMSprop, RmspropOptions>(registry);
}

}  // namespace

ParameterGroup::ParameterGroup(std::vector<std::string> patterns) : json_(Json{{"params", std::move(patterns)}}) {}

ParameterGroup& ParameterGroup::set(const std::string& option, Json value) {
  if (option == "params") {
    throw Error("ParameterGroup::set: 'params' is the group's patterns, given to its constructor");
  }
  json_[option] = std::move(value);
  return *this;
}

void SgdOptions::validate(const Config& config) const {
  if (nesterov() && (momentum() <= 0 || dampening() != 0)) {
    config.fail_at("nesterov", "needs momentum > 0 and dampening 0");
  }
}

OptimizerRegistry& optimizer_registry() {
  static OptimizerRegistry registry("optimizer", register_builtin_optimizers);
  return registry;
}

bool matches_pattern(const std::string& pattern, const std::string& name) {
  // Iterative wildcard matching with backtracking to the last '*'.
  std::size_t p = 0, n = 0, star = std::string::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& options, const NamedParameters& parameters) {
  const std::string type = options.get<std::string>("type", "adam");
  if (!optimizer_registry().contains(type)) {
    const auto known = optimizer_registry().names();
    options.fail_at("type", fmt::format("unknown optimizer '{}'{}; registered: {}", type, did_you_mean(type, known),
                                        quoted_list(known)));
  }
  std::vector<ParameterGroupInput> groups;
  std::vector<std::vector<std::string>> patterns;
  if (const auto list = options.find_child("groups")) {
    if (!list->is_array()) {
      list->fail("must be a list of parameter groups");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Config group = (*list)[i];
      if (!group.is_object()) {
        group.fail("a parameter group must be an object with \"params\"");
      }
      const auto& params = group.json().contains("params") ? group.json().at("params") : Json();
      std::vector<std::string> p;
      if (params.is_string()) {
        p.push_back(params.get<std::string>());
      } else if (params.is_array()) {
        p = group.get<std::vector<std::string>>("params");
      } else {
        group.fail_at("params", "must name the group's parameters: a pattern or a list of patterns");
      }
      groups.push_back(ParameterGroupInput{group, {}});
      patterns.push_back(p);
    }
  }
  ParameterGroupInput rest{std::nullopt, {}};
  std::vector<std::size_t> used(groups.size(), 0);
  for (const auto& [name, tensor] : parameters) {
    if (!tensor.requires_grad()) {
      continue;
    }
    bool placed = false;
    for (std::size_t g = 0; g < groups.size() && !placed; ++g) {
      for (const auto& pattern : patterns[g]) {
        if (matches_pattern(pattern, name)) {
          groups[g].parameters.push_back(tensor);
          ++used[g];
          placed = true;
          break;
        }
      }
    }
    if (!placed) {
      rest.parameters.push_back(tensor);
    }
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (used[g] == 0) {
      groups[g].overrides->fail_at("params", fmt::format("matches no trainable parameter (patterns {})",
                                                         quoted_list(patterns[g])));
    }
  }
  std::vector<ParameterGroupInput> all;
  if (!rest.parameters.empty()) {
    all.push_back(rest);
  }
  all.insert(all.end(), groups.begin(), groups.end());
  if (all.empty()) {
    throw Error("optimizer: the model has no trainable parameters");
  }
  return optimizer_registry().create(type, options, all);
}

std::vector<double> learning_rates(const torch::optim::Optimizer& optimizer) {
  std::vector<double> out;
  for (const auto& group : optimizer.param_groups()) {
    out.push_back(group.options().get_lr());
  }
  return out;
}

namespace {

// The key of a parameter in Optimizer::state(): its TensorImpl, as a pointer (LibTorch 2.x) or as its printed address.
#if TORCH_VERSION_MAJOR >= 2
void* state_key(const torch::Tensor& p) { return p.unsafeGetTensorImpl(); }
#else
std::string state_key(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }
#endif

// What torch::optim::serialize() writes, read with the saved keys kept as strings.
template <typename ParamState>
void load_saved_states(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive state_archive;
  archive.read("state", state_archive);
  std::map<std::string, std::unique_ptr<ParamState>> saved;
  for (const auto& key : state_archive.keys()) {
    torch::serialize::InputArchive one;
    state_archive.read(key, one);
    auto state = std::make_unique<ParamState>();
    state->serialize(one);
    saved.emplace(key, std::move(state));
  }
  torch::serialize::InputArchive groups_archive;
  archive.read("param_groups", groups_archive);
  torch::Tensor size;
  groups_archive.read("param_groups/size", size);
  auto& groups = optimizer.param_groups();
  if (size.item<std::int64_t>() != static_cast<std::int64_t>(groups.size())) {
    throw Error(fmt::format("the saved optimizer has {} parameter group(s), this one {}", size.item<std::int64_t>(),
                            groups.size()));
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    torch::serialize::InputArchive group;
    groups_archive.read(fmt::format("param_groups/{}", g), group);
    torch::Tensor count;
    group.read("params/size", count);
    const auto& params = groups[g].params();
    if (count.item<std::int64_t>() != static_cast<std::int64_t>(params.size())) {
      throw Error(fmt::format("parameter group {} of the saved optimizer has {} parameter(s), this one {}", g,
                              count.item<std::int64_t>(), params.size()));
    }
    for (std::size_t k = 0; k < params.size(); ++k) {
      c10::IValue key;
      group.read(fmt::format("params/{}", k), key);
      const auto it = saved.find(key.toStringRef());
      if (it != saved.end() && it->second) {
        optimizer.state()[state_key(params[k])] = std::move(it->second);
      }
    }
  }
}

}  // namespace

void load_optimizer_state(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive) {
  if (dynamic_cast<torch::optim::AdamW*>(&optimizer) != nullptr) {
    load_saved_states<torch::optim::AdamWParamState>(optimizer, archive);
  } else if (dynamic_cast<torch::optim::Adam*>(&optimizer) != nullptr) {
    load_saved_states<torch::optim::AdamParamState>(optimizer, archive);
  } else if (dynamic_cast<torch::optim::SGD*>(&optimizer) != nullptr) {
    load_saved_states<torch::optim::SGDParamState>(optimizer, archive);
  } else if (dynamic_cast<torch::optim::RMSprop*>(&optimizer) != nullptr) {
    load_saved_states<torch::optim::RMSpropParamState>(optimizer, archive);
  } else {
    optimizer.load(archive);
  }
}

}  // namespace finfuse::training
