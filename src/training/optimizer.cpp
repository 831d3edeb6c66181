#include "finfuse/training/optimizer.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/suggest.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include <fmt/format.h>

#include <tuple>


namespace finfuse::training {
namespace {

std::tuple<double, double> read_betas(const Config& c, std::tuple<double, double> fallback) {
  if (!c.contains("betas")) {
    return fallback;
  }
  const auto betas = c.get<std::vector<double>>("betas");
  if (betas.size() != 2 || !(betas[0] >= 0 && betas[0] < 1) || !(betas[1] >= 0 && betas[1] < 1)) {
    c.fail_at("betas", "must be two numbers in [0, 1)");
  }
  return {betas[0], betas[1]};
}

torch::optim::SGDOptions read_sgd(const Config& c, const torch::optim::SGDOptions& base) {
  torch::optim::SGDOptions o = base;
  o.lr(c.get<double>("lr", base.lr(), Range::positive()));
  o.momentum(c.get<double>("momentum", base.momentum(), Range::half_open(0, 1)));
  o.dampening(c.get<double>("dampening", base.dampening(), Range::half_open(0, 1)));
  o.nesterov(c.get<bool>("nesterov", base.nesterov()));
  o.weight_decay(c.get<double>("weight_decay", base.weight_decay(), Range::non_negative()));
  if (o.nesterov() && (o.momentum() <= 0 || o.dampening() != 0)) {
    c.fail_at("nesterov", "needs momentum > 0 and dampening 0");
  }
  return o;
}

template <typename Options>
Options read_adam(const Config& c, const Options& base) {
  Options o = base;
  o.lr(c.get<double>("lr", base.lr(), Range::positive()));
  o.betas(read_betas(c, base.betas()));
  o.eps(c.get<double>("eps", base.eps(), Range::positive()));
  o.weight_decay(c.get<double>("weight_decay", base.weight_decay(), Range::non_negative()));
  o.amsgrad(c.get<bool>("amsgrad", base.amsgrad()));
  return o;
}

torch::optim::RMSpropOptions read_rmsprop(const Config& c, const torch::optim::RMSpropOptions& base) {
  torch::optim::RMSpropOptions o = base;
  o.lr(c.get<double>("lr", base.lr(), Range::positive()));
  o.alpha(c.get<double>("alpha", base.alpha(), Range::half_open(0, 1)));
  o.eps(c.get<double>("eps", base.eps(), Range::positive()));
  o.momentum(c.get<double>("momentum", base.momentum(), Range::half_open(0, 1)));
  o.centered(c.get<bool>("centered", base.centered()));
  o.weight_decay(c.get<double>("weight_decay", base.weight_decay(), Range::non_negative()));
  return o;
}

// A factory for optimizer Opt with options Options read by `read`.
template <typename Opt, typename Options>
std::unique_ptr<torch::optim::Optimizer> build(const Config& options, const std::vector<ParameterGroupInput>& groups,
                                               Options (*read)(const Config&, const Options&), Options defaults) {
  const Options base = read(options, defaults);
  options.contains("groups");
  options.reject_unknown_keys();
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (const auto& g : groups) {
    Options o = base;
    if (g.overrides) {
      g.overrides->contains("params");
      o = read(*g.overrides, base);
      g.overrides->reject_unknown_keys();
    }
    param_groups.emplace_back(g.parameters, std::make_unique<Options>(o));
  }
  return std::make_unique<Opt>(param_groups, base);
}

torch::optim::SGDOptions sgd_defaults() { return torch::optim::SGDOptions(0.01); }

void register_builtin_optimizers(OptimizerRegistry& registry) {
  registry.add("sgd", [](const Config& o, const std::vector<ParameterGroupInput>& g) {
    return build<torch::optim::SGD, torch::optim::SGDOptions>(o, g, &read_sgd, sgd_defaults());
  });
  registry.add("adam", [](const Config& o, const std::vector<ParameterGroupInput>& g) {
    return build<torch::optim::Adam, torch::optim::AdamOptions>(o, g, &read_adam<torch::optim::AdamOptions>,
                                                                torch::optim::AdamOptions(1e-3));
  });
  registry.add("adamw", [](const Config& o, const std::vector<ParameterGroupInput>& g) {
    return build<torch::optim::AdamW, torch::optim::AdamWOptions>(o, g, &read_adam<torch::optim::AdamWOptions>,
                                                                  torch::optim::AdamWOptions(1e-3));
  });
  registry.add("rmsprop", [](const Config& o, const std::vector<ParameterGroupInput>& g) {
    return build<torch::optim::RMSprop, torch::optim::RMSpropOptions>(o, g, &read_rmsprop,
                                                                      torch::optim::RMSpropOptions(1e-2));
  });
}

}  // namespace

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

}  // namespace finfuse::training
