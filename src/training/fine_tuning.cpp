#include "finfuse/training/fine_tuning.h"

#include "finfuse/core/error.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/training/optimizer.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace finfuse {

std::vector<training::FineTuningOptions> FieldCodec<std::vector<training::FineTuningOptions>>::read(
    const Config& parent, const std::string& key) {
  const Config value = parent.child(key);
  std::vector<training::FineTuningOptions> out;
  if (value.is_object()) {
    out.push_back(training::FineTuningOptions::from_config(value));
    return out;
  }
  if (!value.is_array()) {
    value.fail("expected a list of parts, [{\"module\": \"encoders.text\", \"lr\": 2e-5, \"layer_decay\": 0.9}]");
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_object()) {
      value[i].fail("expected a part, {\"module\": name, \"lr\", \"layer_decay\", \"frozen_layers\", \"unfreeze_every\"}");
    }
    out.push_back(training::FineTuningOptions::from_config(value[i]));
  }
  return out;
}

Json FieldCodec<std::vector<training::FineTuningOptions>>::write(const std::vector<training::FineTuningOptions>& parts) {
  Json out = Json::array();
  for (const auto& p : parts) {
    out.push_back(p.to_json());
  }
  return out;
}

}  // namespace finfuse

namespace finfuse::training {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::vector<std::string> group_patterns(const Json& group) {
  const auto& params = group.contains("params") ? group.at("params") : Json();
  if (params.is_string()) {
    return {params.get<std::string>()};
  }
  std::vector<std::string> out;
  if (params.is_array()) {
    for (const auto& p : params) {
      if (p.is_string()) {
        out.push_back(p.get<std::string>());
      }
    }
  }
  return out;
}

std::int64_t first_match(const Json& groups, const std::string& name) {
  if (!groups.is_array()) {
    return -1;
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const auto& pattern : group_patterns(groups[g])) {
      if (matches_pattern(pattern, name)) {
        return static_cast<std::int64_t>(g);
      }
    }
  }
  return -1;
}

}  // namespace

FineTuning::FineTuning(const std::vector<FineTuningOptions>& options, torch::nn::Module& model) : options_(options) {
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    modules.emplace(item.key(), item.value());
  }
  for (const auto& p : model.named_parameters()) {
    if (p.value().requires_grad()) {
      trainable_.push_back(p.key());
    }
  }
  std::set<std::string> taken;
  for (std::size_t part = 0; part < options_.size(); ++part) {
    const auto& name = options_[part].module();
    const auto pointer = fmt::format("/training/fine_tuning/{}/module", part);
    const auto it = modules.find(name);
    if (name.empty() || it == modules.end()) {
      std::vector<std::string> encoders;
      for (const auto& [key, module] : modules) {
        if (dynamic_cast<encoders::Encoder*>(module.get()) != nullptr) {
          encoders.push_back("\"" + key + "\"");
        }
      }
      throw ConfigError(pointer, fmt::format("the model has no module \"{}\"; its encoders: {}", name,
                                             encoders.empty() ? std::string("none") : fmt::format("{}", fmt::join(encoders, ", "))));
    }
    std::vector<std::vector<std::string>> layers;
    if (const auto* encoder = dynamic_cast<encoders::Encoder*>(it->second.get())) {
      layers = encoder->layers();
    }
    const auto top = static_cast<std::int64_t>(layers.size());
    layers_.push_back(top + 1);
    for (const auto& p : it->second->named_parameters()) {
      const auto full = name + "." + p.key();
      if (!taken.insert(full).second) {
        throw ConfigError(pointer, fmt::format("parameter {} is in two fine-tuned parts", full));
      }
      std::int64_t layer = top;
      for (std::int64_t d = 0; d < top && layer == top; ++d) {
        for (const auto& prefix : layers[static_cast<std::size_t>(d)]) {
          if (starts_with(p.key(), prefix)) {
            layer = d;
            break;
          }
        }
      }
      members_.push_back(Member{part, layer, full, p.value()});
    }
  }
  frozen_.assign(options_.size(), -1);
}

bool FineTuning::rates_differ(std::size_t part) const {
  return options_[part].lr().has_value() || options_[part].layer_decay() != 1.0;
}

std::vector<FineTuning::Group> FineTuning::groups(const Json& optimizer) const {
  const Json configured = optimizer.contains("groups") ? optimizer.at("groups") : Json::array();
  std::map<std::tuple<std::size_t, std::int64_t, std::int64_t>, Group> buckets;
  for (const auto& m : members_) {
    if (!rates_differ(m.part)) {
      continue;
    }
    const auto g = first_match(configured, m.name);
    auto& group = buckets[{m.part, m.layer, g}];
    group.part = m.part;
    group.layer = m.layer;
    group.configured = g;
    group.names.push_back(m.name);
  }
  std::vector<Group> out;
  for (auto& [key, group] : buckets) {
    out.push_back(std::move(group));
  }
  return out;
}

Json FineTuning::optimizer_options(const Json& optimizer) const {
  const auto ours = groups(optimizer);
  if (ours.empty()) {
    return optimizer;
  }
  Json out = optimizer;
  const Json configured = optimizer.contains("groups") ? optimizer.at("groups") : Json::array();
  Json groups = Json::array();
  for (const auto& group : ours) {
    Json g = group.configured >= 0 ? configured[static_cast<std::size_t>(group.configured)] : Json::object();
    g["params"] = group.names;
    groups.push_back(g);
  }
  // A configured group keeps the parameters outside the parts that it matches first; one left with none is dropped
  // (one that matched nothing at all stays, for the optimizer to report).
  std::set<std::string> in_parts;
  for (const auto& group : ours) {
    in_parts.insert(group.names.begin(), group.names.end());
  }
  std::set<std::int64_t> used_before;
  std::set<std::int64_t> used_after;
  for (const auto& name : trainable_) {
    const auto g = first_match(configured, name);
    used_before.insert(g);
    if (in_parts.count(name) == 0) {
      used_after.insert(g);
    }
  }
  for (std::size_t g = 0; g < configured.size(); ++g) {
    const auto index = static_cast<std::int64_t>(g);
    if (used_after.count(index) != 0 || used_before.count(index) == 0) {
      groups.push_back(configured[g]);
    }
  }
  out["groups"] = groups;
  return out;
}

void FineTuning::set_learning_rates(torch::optim::Optimizer& optimizer) const {
  // optimizer_options() gave every layer of a part whose rates differ groups of their own: a group's first parameter
  // says which part and layer it holds.
  std::map<const void*, const Member*> member_of;
  for (const auto& m : members_) {
    member_of.emplace(m.parameter.unsafeGetTensorImpl(), &m);
  }
  for (auto& group : optimizer.param_groups()) {
    if (group.params().empty()) {
      continue;
    }
    const auto it = member_of.find(group.params().front().unsafeGetTensorImpl());
    if (it == member_of.end() || !rates_differ(it->second->part)) {
      continue;
    }
    const auto& m = *it->second;
    const auto& o = options_[m.part];
    const double base = o.lr() ? *o.lr() : group.options().get_lr();
    group.options().set_lr(base * std::pow(o.layer_decay(), static_cast<double>(layers_[m.part] - 1 - m.layer)));
  }
}

std::string FineTuning::apply(std::int64_t epoch) {
  std::vector<std::string> changes;
  for (std::size_t part = 0; part < options_.size(); ++part) {
    const auto& o = options_[part];
    std::int64_t frozen = o.frozen_layers();
    if (o.unfreeze_every() > 0) {
      frozen = std::max<std::int64_t>(0, frozen - epoch / o.unfreeze_every());
    }
    frozen = std::min(frozen, layers_[part]);
    if (frozen == frozen_[part]) {
      continue;
    }
    for (auto& m : members_) {
      if (m.part != part) {
        continue;
      }
      const bool freeze = m.layer < frozen;
      if (freeze && m.parameter.grad().defined()) {
        m.parameter.mutable_grad() = torch::Tensor();
      }
      m.parameter.set_requires_grad(!freeze);
    }
    if (frozen_[part] >= 0 || frozen > 0) {
      changes.push_back(frozen == 0 ? fmt::format("{} trains all its {} layers", o.module(), layers_[part])
                                    : fmt::format("{} keeps {} of its {} layers frozen", o.module(), frozen,
                                                  layers_[part]));
    }
    frozen_[part] = frozen;
  }
  return changes.empty() ? std::string() : fmt::format("fine-tuning: {}", fmt::join(changes, "; "));
}

}  // namespace finfuse::training
