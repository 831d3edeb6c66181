#include "finfuse/fusion/fusion.h"

#include "finfuse/core/check.h"
#include "finfuse/core/shape.h"
#include "finfuse/core/suggest.h"
#include "finfuse/fusion/attention_fusion.h"
#include "finfuse/fusion/bilinear_fusion.h"
#include "finfuse/fusion/concat_fusion.h"
#include "finfuse/fusion/cross_attention_fusion.h"
#include "finfuse/fusion/cross_section_fusion.h"
#include "finfuse/fusion/gated_fusion.h"
#include "finfuse/fusion/graph_fusion.h"
#include "finfuse/data/time.h"
#include "finfuse/nn/activation.h"

#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <fmt/format.h>

namespace finfuse::fusion {
namespace {

template <typename Impl, typename Options>
void add_builtin(FusionRegistry& registry, const std::string& name) {
  registry.add(name, [](const Config& options, const std::vector<FusionModality>& modalities) -> std::shared_ptr<Fusion> {
    return std::make_shared<Impl>(Options::from_config(options), modalities);
  }, Options::fields());
}

// Layers whose options name modalities read the configuration themselves, to report a wrong name at its key.
template <typename Impl, typename Options>
void add_builtin_with_config(FusionRegistry& registry, const std::string& name) {
  registry.add(name, [](const Config& options, const std::vector<FusionModality>& modalities) -> std::shared_ptr<Fusion> {
    return std::make_shared<Impl>(options, modalities);
  }, Options::fields());
}

void register_builtin_fusions(FusionRegistry& registry) {
  add_builtin<ConcatFusionImpl, ConcatFusionOptions>(registry, "concat");
  add_builtin<GatedFusionImpl, GatedFusionOptions>(registry, "gated");
  add_builtin<AttentionFusionImpl, AttentionFusionOptions>(registry, "attention");
  add_builtin_with_config<CrossAttentionFusionImpl, CrossAttentionFusionOptions>(registry, "cross_attention");
  add_builtin_with_config<BilinearFusionImpl, BilinearFusionOptions>(registry, "bilinear");
  add_builtin_with_config<GraphFusionImpl, GraphFusionOptions>(registry, "graph");
  add_builtin_with_config<CrossSectionFusionImpl, CrossSectionFusionOptions>(registry, "cross_section");
}

}  // namespace

Fusion::Fusion(std::vector<FusionModality> modalities) : modalities_(std::move(modalities)) {
  FINFUSE_CHECK(!modalities_.empty(), "a fusion layer needs at least one modality");
  for (const auto& m : modalities_) {
    FINFUSE_CHECK(m.size > 0, "fusion: modality '", m.name, "' has width ", m.size);
  }
}

std::int64_t Fusion::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& p : parameters()) {
    count += p.numel();
  }
  return count;
}

std::int64_t Fusion::total_size() const {
  std::int64_t total = 0;
  for (const auto& m : modalities_) {
    total += m.size;
  }
  return total;
}

void Fusion::check_one_day(const FusionInput& input, const char* layer) {
  if (!input.day.defined()) {
    throw Error(fmt::format("{} relates the samples of one decision day to each other and needs each sample's day "
                            "(samples with decision times, FusionInput::day)",
                            layer));
  }
  if (input.day.numel() < 2) {
    return;
  }
  // One comparison where the days are (one synchronisation per batch on a GPU); the range only for the message.
  if (input.day.ne(input.day[0]).any().item<bool>()) {
    const auto days = input.day.to(torch::kCPU, torch::kInt64);
    const auto first = days.min().item<std::int64_t>();
    const auto last = days.max().item<std::int64_t>();
    throw Error(fmt::format("{} needs one decision day per batch, so that no sample sees a later day's inputs; this "
                            "batch holds days {} to {} (set \"batching\": \"cross_sectional\")",
                            layer, data::Date(static_cast<std::int32_t>(first)).to_string(),
                            data::Date(static_cast<std::int32_t>(last)).to_string()));
  }
}

void Fusion::check_input(const FusionInput& input) const {
  FINFUSE_CHECK_SHAPE(input.modalities.size() == modalities_.size(), "fusion: expected ", modalities_.size(),
                      " modalities, got ", input.modalities.size());
  std::int64_t batch = -1;
  for (std::size_t m = 0; m < modalities_.size(); ++m) {
    const auto& spec = modalities_[m];
    const auto& x = input.modalities[m];
    FINFUSE_CHECK_SHAPE(x.pooled.defined() && x.pooled.dim() == 2 && x.pooled.size(1) == spec.size,
                        "fusion: modality '", spec.name, "' expected pooled [B, ", spec.size, "], got ",
                        x.pooled.defined() ? shape_string(x.pooled.sizes()) : std::string("no tensor"));
    if (batch < 0) {
      batch = x.pooled.size(0);
    }
    FINFUSE_CHECK_SHAPE(x.pooled.size(0) == batch, "fusion: modality '", spec.name, "' has ", x.pooled.size(0),
                        " samples, the first modality ", batch);
    FINFUSE_CHECK_SHAPE(x.present.defined() && x.present.dim() == 1 && x.present.size(0) == batch,
                        "fusion: modality '", spec.name, "' expected present [", batch, "], got ",
                        x.present.defined() ? shape_string(x.present.sizes()) : std::string("no tensor"));
    if (x.tokens.defined()) {
      FINFUSE_CHECK_SHAPE(x.tokens.dim() == 3 && x.tokens.size(0) == batch && x.tokens.size(2) == spec.tokens_width() &&
                              x.token_mask.defined() && x.token_mask.dim() == 2 &&
                              x.token_mask.size(0) == batch && x.token_mask.size(1) == x.tokens.size(1),
                          "fusion: modality '", spec.name, "' expected tokens [", batch, ", T, ", spec.tokens_width(),
                          "] with a mask [", batch, ", T], got ", shape_string(x.tokens.sizes()), " and ",
                          x.token_mask.defined() ? shape_string(x.token_mask.sizes()) : std::string("no mask"));
    }
  }
}

std::size_t Fusion::modality_index(const Config& options, const std::string& key, const std::string& name) const {
  std::vector<std::string> names;
  for (std::size_t m = 0; m < modalities_.size(); ++m) {
    if (modalities_[m].name == name) {
      return m;
    }
    names.push_back(modalities_[m].name);
  }
  options.fail_at(key, fmt::format("the model has no modality '{}'{}; it has {}", name, did_you_mean(name, names),
                                   quoted_list(names)));
}

FusionRegistry& fusion_registry() {
  static FusionRegistry registry("fusion", register_builtin_fusions);
  return registry;
}

std::shared_ptr<Fusion> make_fusion(const Config& options, const std::vector<FusionModality>& modalities) {
  const std::string type = options.get<std::string>("type");
  if (!fusion_registry().contains(type)) {
    const auto known = fusion_registry().names();
    options.fail_at("type", fmt::format("unknown fusion '{}'{}; registered: {}", type, did_you_mean(type, known),
                                        quoted_list(known)));
  }
  return fusion_registry().create(type, options, modalities);
}

// ---------------------------------------------------------------------------------------------------------- concat

ConcatFusionImpl::ConcatFusionImpl(const ConcatFusionOptions& options, std::vector<FusionModality> modalities)
    : Fusion(std::move(modalities)), options_(options) {
  if (options_.layer_norm()) {
    norms_ = register_module("norm", torch::nn::ModuleDict());
    for (const auto& m : this->modalities()) {
      norms_->update({{m.name, torch::nn::LayerNorm(torch::nn::LayerNormOptions({m.size})).ptr()}});
    }
  }
  if (options_.projection() > 0) {
    projections_ = register_module("projection", torch::nn::ModuleDict());
    for (const auto& m : this->modalities()) {
      projections_->update({{m.name, torch::nn::Linear(m.size, options_.projection()).ptr()}});
    }
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(options_.dropout()));
}

std::int64_t ConcatFusionImpl::output_size() const {
  return options_.projection() > 0 ? options_.projection() * static_cast<std::int64_t>(modalities().size()) : total_size();
}

FusionOutput ConcatFusionImpl::fuse(const FusionInput& input) {
  check_input(input);
  std::vector<torch::Tensor> parts;
  for (std::size_t m = 0; m < modalities().size(); ++m) {
    auto x = input.modalities[m].pooled;
    const auto& name = modalities()[m].name;
    if (norms_) {
      x = norms_[name]->as<torch::nn::LayerNormImpl>()->forward(x);
    }
    if (projections_) {
      x = projections_[name]->as<torch::nn::LinearImpl>()->forward(x);
    }
    parts.push_back(x);
  }
  return FusionOutput{dropout_->forward(torch::cat(parts, 1)), {}};
}

// ----------------------------------------------------------------------------------------------------------- gated

GatedFusionImpl::GatedFusionImpl(const GatedFusionOptions& options, std::vector<FusionModality> modalities)
    : Fusion(std::move(modalities)), options_(options) {
  transforms_ = register_module("transform", torch::nn::ModuleDict());
  for (const auto& m : this->modalities()) {
    transforms_->update({{m.name, torch::nn::Linear(m.size, options_.hidden()).ptr()}});
  }
  gate_ = register_module(
      "gate", torch::nn::Linear(total_size(), options_.hidden() * static_cast<std::int64_t>(this->modalities().size())));
  dropout_ = register_module("dropout", torch::nn::Dropout(options_.dropout()));
}

FusionOutput GatedFusionImpl::fuse(const FusionInput& input) {
  check_input(input);
  const auto count = static_cast<std::int64_t>(modalities().size());
  std::vector<torch::Tensor> pooled;
  std::vector<torch::Tensor> hidden;
  for (std::size_t m = 0; m < modalities().size(); ++m) {
    pooled.push_back(input.modalities[m].pooled);
    hidden.push_back(torch::tanh(
        transforms_[modalities()[m].name]->as<torch::nn::LinearImpl>()->forward(input.modalities[m].pooled)));
  }
  const auto h = torch::stack(hidden, 1);  // [B, M, H]
  const auto logits = gate_->forward(torch::cat(pooled, 1)).view({-1, count, options_.hidden()});
  const auto gates = options_.gate() == "softmax" ? torch::softmax(logits, 1) : torch::sigmoid(logits);
  FusionOutput out;
  out.fused = dropout_->forward((gates * h).sum(1));
  out.inspection["gates"] = gates.mean(2).detach();
  out.inspection["gate_values"] = gates.detach();
  return out;
}

// -------------------------------------------------------------------------------------------------------- bilinear

void BilinearFusionOptions::validate(const Config& config) const {
  if (!modalities().empty() && (modalities().size() != 2 || modalities()[0] == modalities()[1])) {
    config.fail_at("modalities", "must name two different modalities");
  }
  nn::read_activation(config, "activation", activation());
}

BilinearFusionImpl::BilinearFusionImpl(const BilinearFusionOptions& options, std::vector<FusionModality> modalities)
    : BilinearFusionImpl(Config(options.to_json()), std::move(modalities)) {}

BilinearFusionImpl::BilinearFusionImpl(const Config& config, std::vector<FusionModality> modalities)
    : Fusion(std::move(modalities)), options_(BilinearFusionOptions::from_config(config)) {
  if (this->modalities().size() < 2) {
    config.fail_at("type", fmt::format("bilinear fusion needs two modalities, the model has one ('{}')",
                                       this->modalities()[0].name));
  }
  if (options_.modalities().empty()) {
    options_.modalities() = {this->modalities()[0].name, this->modalities()[1].name};
  } else {
    first_ = modality_index(config, "modalities", options_.modalities()[0]);
    second_ = modality_index(config, "modalities", options_.modalities()[1]);
  }
  bilinear_ = register_module("bilinear", torch::nn::Bilinear(this->modalities()[first_].size,
                                                              this->modalities()[second_].size, options_.hidden()));
  activation_ = nn::make_activation(options_.activation());
  dropout_ = register_module("dropout", torch::nn::Dropout(options_.dropout()));
}

std::int64_t BilinearFusionImpl::output_size() const {
  return options_.hidden() + total_size() - modalities()[first_].size - modalities()[second_].size;
}

FusionOutput BilinearFusionImpl::fuse(const FusionInput& input) {
  check_input(input);
  std::vector<torch::Tensor> parts = {activation_.forward(
      bilinear_->forward(input.modalities[first_].pooled, input.modalities[second_].pooled))};
  for (std::size_t m = 0; m < modalities().size(); ++m) {
    if (m != first_ && m != second_) {
      parts.push_back(input.modalities[m].pooled);
    }
  }
  return FusionOutput{dropout_->forward(torch::cat(parts, 1)), {}};
}

}  // namespace finfuse::fusion
