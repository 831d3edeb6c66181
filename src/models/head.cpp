#include "finfuse/models/head.h"

#include "finfuse/core/error.h"
#include "finfuse/core/suggest.h"
#include "finfuse/nn/activation.h"

#include <fmt/format.h>

namespace finfuse::models {
namespace {

template <typename Impl, typename Options>
void add_builtin(HeadRegistry& registry, const std::string& name) {
  registry.add(name, [](const Config& options, const HeadContext& context) -> std::shared_ptr<Head> {
    return std::make_shared<Impl>(Options::from_config(options), context.in_features, context.label_context,
                                  &options);
  }, Options::fields());
}

void register_builtin_heads(HeadRegistry& registry) {
  add_builtin<ClassificationHeadImpl, ClassificationHeadOptions>(registry, "classification");
  add_builtin<RegressionHeadImpl, RegressionHeadOptions>(registry, "regression");
  add_builtin<RankingHeadImpl, RankingHeadOptions>(registry, "ranking");
}

}  // namespace

void detail::validate_head_fields(const Config& config, const std::string& activation, const Json& loss) {
  nn::read_activation(config, "activation", activation);
  if (loss.is_string() && !nn::loss_registry().contains(loss.get<std::string>())) {
    const auto known = nn::loss_registry().names();
    const auto name = loss.get<std::string>();
    config.fail_at("loss", fmt::format("unknown loss '{}'{}; registered: {}", name, did_you_mean(name, known),
                                       quoted_list(known)));
  }
  if (!loss.is_string() && !loss.is_object()) {
    config.fail_at("loss", "must be a loss name or an options object with \"type\"");
  }
}

// --------------------------------------------------------------------------------------------------------- MlpHead

MlpHead::MlpHead(const std::string& kind, std::int64_t in_features, std::int64_t classes, const Parts& parts,
                 const nn::LossContext& context, const Config* source)
    : classes_(classes), weight_(parts.weight), target_(parts.target) {
  if (in_features <= 0) {
    throw ConfigError(source != nullptr ? source->pointer() : std::string(),
                      fmt::format("a {} head needs the width of the fused vector it reads (> 0), got {}", kind,
                                  in_features));
  }
  nn::LossContext head_context;
  head_context.classes = classes;
  if (classes > 0 && target_ == "label") {
    head_context.class_counts = context.class_counts;
  }
  const auto given = source != nullptr && parts.loss.is_object() ? source->find_child("loss") : std::nullopt;
  loss_ = nn::make_loss(given ? *given : Config(parts.loss), head_context);
  if (loss_->classification() != (classes > 0)) {
    const std::string reason = fmt::format("a {} head predicts {}; loss '{}' is for {}", kind,
                                           classes > 0 ? "class logits" : "values",
                                           loss_->options_json().value("type", std::string("?")),
                                           loss_->classification() ? "class logits" : "predicted values");
    if (source != nullptr) {
      source->fail_at("loss", reason);
    }
    throw ConfigError("/loss", reason);
  }
  auto widths = parts.layers;
  widths.push_back(classes > 0 ? classes : 1);
  mlp_ = register_module("mlp", nn::Mlp(nn::MlpOptions(in_features, widths)
                                            .activation(parts.activation)
                                            .dropout(parts.dropout)
                                            .activate_output(false)));
}

torch::Tensor MlpHead::forward(const torch::Tensor& fused) {
  const auto out = mlp_->forward(fused);
  return classes_ > 0 ? out : out.squeeze(-1);
}

torch::Tensor MlpHead::target(const data::Batch& batch) const {
  const torch::Tensor& source = target_ == "forward_return" ? batch.forward_return : batch.target;
  if (!source.defined()) {
    throw Error(fmt::format("head '{}' learns the batch's {}, which this batch does not have", head_name(), target_));
  }
  if (classes_ == 0) {
    return source.to(torch::kFloat32);
  }
  const auto classes = source.to(torch::kInt64);
  if (classes.numel() > 0) {
    const bool integral = torch::equal(classes.to(source.scalar_type()), source);
    const auto lo = classes.min().item<std::int64_t>();
    const auto hi = classes.max().item<std::int64_t>();
    if (!integral || lo < 0 || hi >= classes_) {
      throw Error(fmt::format("head '{}' has {} classes but the batch's {} holds {} (expected class indices 0 to {})",
                              head_name(), classes_, target_,
                              integral ? fmt::format("values from {} to {}", lo, hi) : "non-integer values",
                              classes_ - 1));
    }
  }
  return classes;
}

torch::Tensor MlpHead::loss(const torch::Tensor& prediction, const torch::Tensor& target,
                            const torch::Tensor& day) const {
  return loss_->forward(prediction, target, day.defined() ? day.to(prediction.device()) : day);
}

// ------------------------------------------------------------------------------------------------------- built-ins

ClassificationHeadImpl::ClassificationHeadImpl(ClassificationHeadOptions options, std::int64_t in_features,
                                               const nn::LossContext& context, const Config* source)
    : MlpHead("classification", in_features, options.classes(), parts_of(options), context, source),
      options_(std::move(options)) {
  options_.loss(resolved_loss());
}

RegressionHeadImpl::RegressionHeadImpl(RegressionHeadOptions options, std::int64_t in_features,
                                       const nn::LossContext& context, const Config* source)
    : MlpHead("regression", in_features, 0, parts_of(options), context, source), options_(std::move(options)) {
  options_.loss(resolved_loss());
}

RankingHeadImpl::RankingHeadImpl(RankingHeadOptions options, std::int64_t in_features, const nn::LossContext& context,
                                 const Config* source)
    : MlpHead("ranking", in_features, 0, parts_of(options), context, source), options_(std::move(options)) {
  options_.loss(resolved_loss());
}

// -------------------------------------------------------------------------------------------------------- registry

HeadRegistry& head_registry() {
  static HeadRegistry registry("head", register_builtin_heads);
  return registry;
}

std::shared_ptr<Head> make_head(const Config& options, const HeadContext& context) {
  if (!options.is_object()) {
    options.fail("a head must be an options object, e.g. {\"type\": \"classification\"}");
  }
  const std::string type = options.get<std::string>("type", "classification");
  if (!head_registry().contains(type)) {
    const auto known = head_registry().names();
    options.fail_at("type", fmt::format("unknown head '{}'{}; registered: {}", type, did_you_mean(type, known),
                                        quoted_list(known)));
  }
  auto head = head_registry().create(type, options, context);
  if (!head) {
    throw Error(fmt::format("head '{}': its factory returned no module", type));
  }
  return head;
}

}  // namespace finfuse::models
