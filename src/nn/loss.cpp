#include "finfuse/nn/loss.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/shape.h"
#include "finfuse/core/suggest.h"

#include <torch/nn/functional/loss.h>

#include <fmt/format.h>

#include <functional>

namespace finfuse::nn {
namespace {

namespace F = torch::nn::functional;

// Computes in float32 at least (half-precision predictions under autocast are widened), keeping float64 as it is.
torch::Tensor widened(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat64 ? t : t.to(torch::kFloat32);
}

void check_values(const torch::Tensor& prediction, const torch::Tensor& target, const char* loss) {
  FINFUSE_CHECK_SHAPE(prediction.dim() == 1 && target.dim() == 1 && prediction.size(0) == target.size(0), "loss ",
                      loss, ": expected predictions [B] and targets [B], got ", shape_string(prediction.sizes()),
                      " and ", shape_string(target.sizes()));
}

void check_logits(const torch::Tensor& prediction, const torch::Tensor& target, std::int64_t classes,
                  const char* loss) {
  FINFUSE_CHECK_SHAPE(prediction.dim() == 2 && target.dim() == 1 && prediction.size(0) == target.size(0) &&
                          (classes == 0 || prediction.size(1) == classes),
                      "loss ", loss, ": expected logits [B, ", classes > 0 ? std::to_string(classes) : "C",
                      "] and class indices [B], got ", shape_string(prediction.sizes()), " and ",
                      shape_string(target.sizes()));
}

// The form of class weights, checked at their path: null, "balanced", or a list of numbers >= 0.
void check_class_weights_form(const Config& options) {
  if (!options.contains("class_weights") || options.json().at("class_weights").is_null()) {
    return;
  }
  const auto& value = options.json().at("class_weights");
  if (value.is_string() && value.get<std::string>() == "balanced") {
    return;
  }
  if (!value.is_array()) {
    options.fail_at("class_weights", "must be a list of weights, one per class, or \"balanced\"");
  }
  const Config list = options.child("class_weights");
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_number() || !(value[i].get<double>() >= 0.0)) {
      list[i].fail("must be a number >= 0");
    }
  }
}

// Class weights against the training labels: the list as given (one per class), or "balanced" (n / (classes x
// count_c), as scikit-learn). ConfigError at /class_weights when they do not fit.
std::vector<double> resolve_class_weights(const Json& value, const LossContext& context) {
  if (value.is_null()) {
    return {};
  }
  std::vector<double> weights;
  if (value.is_string()) {
    if (value.get<std::string>() != "balanced") {
      throw ConfigError("/class_weights", "must be a list of weights, one per class, or \"balanced\"");
    }
    if (context.class_counts.empty()) {
      throw ConfigError("/class_weights", "\"balanced\" needs the training labels, which are not known here");
    }
    double total = 0.0;
    for (const double c : context.class_counts) {
      total += c;
    }
    for (const double c : context.class_counts) {
      weights.push_back(c > 0.0 ? total / (static_cast<double>(context.class_counts.size()) * c) : 0.0);
    }
    return weights;
  }
  if (!value.is_array()) {
    throw ConfigError("/class_weights", "must be a list of weights, one per class, or \"balanced\"");
  }
  for (const auto& w : value) {
    if (!w.is_number() || !(w.get<double>() >= 0.0)) {
      throw ConfigError("/class_weights", fmt::format("must hold numbers >= 0, got {}", w.dump()));
    }
    weights.push_back(w.get<double>());
  }
  if (context.classes > 0 && static_cast<std::int64_t>(weights.size()) != context.classes) {
    throw ConfigError("/class_weights", fmt::format("has {} weights for {} classes", weights.size(), context.classes));
  }
  return weights;
}

// Builds a loss whose class weights are resolved in its constructor, reporting a misfit at the configuration's own
// path of class_weights.
template <typename Make>
std::shared_ptr<Loss> weights_at(const Config& options, Make make) {
  try {
    return make();
  } catch (const ConfigError& e) {
    if (e.pointer() == "/class_weights") {
      options.fail_at("class_weights", e.reason());
    }
    throw;
  }
}

Json weights_json(const std::vector<double>& w) { return w.empty() ? Json(nullptr) : Json(w); }

torch::Tensor weights_tensor(const std::vector<double>& w) {
  return w.empty() ? torch::Tensor() : torch::tensor(w, torch::kFloat64);
}

// Calls f(prediction, target) for each day's samples and averages the results (days with fewer than `minimum`
// samples are skipped). Returns a zero that still depends on the prediction when no day qualifies.
torch::Tensor per_day(const torch::Tensor& prediction, const torch::Tensor& target, const torch::Tensor& day,
                      std::int64_t minimum,
                      const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& f) {
  std::vector<torch::Tensor> losses;
  if (!day.defined()) {
    if (prediction.size(0) >= minimum) {
      losses.push_back(f(prediction, target));
    }
  } else {
    FINFUSE_CHECK_SHAPE(day.dim() == 1 && day.size(0) == prediction.size(0), "loss: expected days [",
                        prediction.size(0), "], got ", shape_string(day.sizes()));
    const auto [unique, inverse] = at::_unique(day.to(torch::kInt64), /*sorted=*/true, /*return_inverse=*/true);
    for (std::int64_t g = 0; g < unique.size(0); ++g) {
      const auto members = (inverse == g).nonzero().squeeze(1).to(prediction.device());
      if (members.size(0) >= minimum) {
        losses.push_back(f(prediction.index_select(0, members), target.index_select(0, members)));
      }
    }
  }
  if (losses.empty()) {
    return prediction.sum() * 0.0;
  }
  return torch::stack(losses).mean();
}

void register_builtin_losses(LossRegistry& registry) {
  registry.add("cross_entropy", [](const Config& o, const LossContext& c) -> std::shared_ptr<Loss> {
    const auto options = CrossEntropyLossOptions::from_config(o);
    return weights_at(o, [&] { return std::make_shared<CrossEntropyLoss>(options, c); });
  }, CrossEntropyLossOptions::fields());
  registry.add("focal", [](const Config& o, const LossContext& c) -> std::shared_ptr<Loss> {
    const auto options = FocalLossOptions::from_config(o);
    return weights_at(o, [&] { return std::make_shared<FocalLoss>(options, c); });
  }, FocalLossOptions::fields());
  registry.add("bce", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> {
    return std::make_shared<BceLoss>(BceLossOptions::from_config(o));
  }, BceLossOptions::fields());
  registry.add("hinge", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> {
    return std::make_shared<HingeLoss>(HingeLossOptions::from_config(o));
  }, HingeLossOptions::fields());
  registry.add("huber", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> {
    return std::make_shared<HuberLoss>(HuberLossOptions::from_config(o));
  }, HuberLossOptions::fields());
  registry.add("listnet", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> {
    return std::make_shared<ListNetLoss>(ListNetLossOptions::from_config(o));
  }, ListNetLossOptions::fields());
  const auto without_options = [&registry](const std::string& name, auto make) {
    registry.add(name, [make](const Config& o, const LossContext&) -> std::shared_ptr<Loss> {
      o.reject_unknown_keys();
      return make();
    }, {});
  };
  without_options("mse", [] { return std::make_shared<MseLoss>(); });
  without_options("ic", [] { return std::make_shared<IcLoss>(); });
  without_options("ranknet", [] { return std::make_shared<RankNetLoss>(); });
  without_options("listmle", [] { return std::make_shared<ListMleLoss>(); });
}

}  // namespace

void CrossEntropyLossOptions::validate(const Config& config) const { check_class_weights_form(config); }
void FocalLossOptions::validate(const Config& config) const { check_class_weights_form(config); }

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyLossOptions options, const LossContext& context)
    : options_(std::move(options)),
      classes_(context.classes),
      weights_(resolve_class_weights(options_.class_weights(), context)),
      weight_tensor_(weights_tensor(weights_)) {}

torch::Tensor CrossEntropyLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                                        const torch::Tensor&) const {
  check_logits(prediction, target, classes_, "cross_entropy");
  auto o = F::CrossEntropyFuncOptions().label_smoothing(options_.label_smoothing());
  if (weight_tensor_.defined()) {
    o = o.weight(weight_tensor_.to(prediction.device(), widened(prediction).scalar_type()));
  }
  return F::cross_entropy(widened(prediction), target.to(torch::kInt64), o);
}

Json CrossEntropyLoss::options_json() const {
  auto out = options_.to_json();
  out["class_weights"] = weights_json(weights_);  // resolved ("balanced" becomes its weights)
  return typed_json("cross_entropy", std::move(out));
}

FocalLoss::FocalLoss(FocalLossOptions options, const LossContext& context)
    : options_(std::move(options)),
      classes_(context.classes),
      weights_(resolve_class_weights(options_.class_weights(), context)),
      weight_tensor_(weights_tensor(weights_)) {}

torch::Tensor FocalLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                                 const torch::Tensor&) const {
  check_logits(prediction, target, classes_, "focal");
  const auto y = target.to(torch::kInt64).unsqueeze(1);
  const auto log_p = torch::log_softmax(widened(prediction), 1).gather(1, y).squeeze(1);
  auto loss = -torch::pow(1.0 - log_p.exp(), options_.gamma()) * log_p;
  if (weight_tensor_.defined()) {
    const auto w = weight_tensor_.to(prediction.device(), log_p.scalar_type()).index_select(0, y.squeeze(1));
    return (loss * w).sum() / w.sum();
  }
  return loss.mean();
}

Json FocalLoss::options_json() const {
  auto out = options_.to_json();
  out["class_weights"] = weights_json(weights_);
  return typed_json("focal", std::move(out));
}

torch::Tensor BceLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                               const torch::Tensor&) const {
  torch::Tensor logit = widened(prediction);
  if (logit.dim() == 2 && logit.size(1) == 2) {
    logit = logit.select(1, 1) - logit.select(1, 0);  // two-class logits: log-odds of class 1
  }
  check_values(logit, target, "bce");
  return F::binary_cross_entropy_with_logits(
      logit, target.to(widened(prediction).scalar_type()),
      F::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(
          torch::full({1}, options_.pos_weight(), logit.options())));
}

torch::Tensor HingeLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                                 const torch::Tensor&) const {
  const double margin = options_.margin();
  if (prediction.dim() == 1) {
    check_values(prediction, target, "hinge");
    const auto sign = target.to(widened(prediction).scalar_type()) * 2.0 - 1.0;
    return torch::relu(margin - sign * widened(prediction)).mean();
  }
  check_logits(prediction, target, 0, "hinge");
  const auto scores = widened(prediction);
  const auto y = target.to(torch::kInt64).unsqueeze(1);
  FINFUSE_CHECK_SHAPE(scores.size(0) == 0 || (y.min().item<std::int64_t>() >= 0 &&
                                               y.max().item<std::int64_t>() < scores.size(1)),
                      "loss hinge: class indices must lie in [0, ", scores.size(1), ")");
  const auto true_score = scores.gather(1, y);
  // Every class's margin violation; the true class's own term (max(0, margin)) is removed again.
  const auto violations = torch::relu(margin - true_score + scores);
  return (violations.sum(1) - margin).mean();
}

torch::Tensor MseLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                               const torch::Tensor&) const {
  check_values(prediction, target, "mse");
  return F::mse_loss(widened(prediction), target.to(widened(prediction).scalar_type()));
}

torch::Tensor HuberLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                                 const torch::Tensor&) const {
  check_values(prediction, target, "huber");
  return F::huber_loss(widened(prediction), target.to(widened(prediction).scalar_type()),
                       F::HuberLossFuncOptions().delta(options_.delta()));
}

torch::Tensor IcLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                              const torch::Tensor& day) const {
  check_values(prediction, target, "ic");
  return per_day(widened(prediction), target.to(widened(prediction).scalar_type()), day, 2,
                 [](const torch::Tensor& p, const torch::Tensor& y) {
                   const auto dp = p - p.mean();
                   const auto dy = y - y.mean();
                   const auto denominator = torch::sqrt((dp * dp).sum() * (dy * dy).sum() + 1e-12);
                   return -(dp * dy).sum() / denominator;
                 });
}

torch::Tensor RankNetLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                                   const torch::Tensor& day) const {
  check_values(prediction, target, "ranknet");
  return per_day(widened(prediction), target.to(widened(prediction).scalar_type()), day, 2,
                 [](const torch::Tensor& s, const torch::Tensor& y) {
                   const auto better = y.unsqueeze(1) > y.unsqueeze(0);  // [i, j]: i should rank above j
                   const auto margin = s.unsqueeze(1) - s.unsqueeze(0);
                   const auto pairs = better.sum();
                   return torch::where(pairs > 0, (F::softplus(-margin) * better).sum() / pairs.clamp_min(1),
                                       margin.sum() * 0.0);
                 });
}

torch::Tensor ListNetLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                                   const torch::Tensor& day) const {
  check_values(prediction, target, "listnet");
  const double t = options_.temperature();
  return per_day(widened(prediction), target.to(widened(prediction).scalar_type()), day, 2,
                 [t](const torch::Tensor& s, const torch::Tensor& y) {
                   return -(torch::softmax(y / t, 0) * torch::log_softmax(s, 0)).sum();
                 });
}

torch::Tensor ListMleLoss::forward(const torch::Tensor& prediction, const torch::Tensor& target,
                                   const torch::Tensor& day) const {
  check_values(prediction, target, "listmle");
  return per_day(widened(prediction), target.to(widened(prediction).scalar_type()), day, 2,
                 [](const torch::Tensor& s, const torch::Tensor& y) {
                   const auto order = torch::argsort(y, /*dim=*/0, /*descending=*/true);
                   const auto sorted = s.index_select(0, order);
                   // log sum_{k >= i} exp(s_k): a reversed cumulative logsumexp.
                   const auto tail = torch::logcumsumexp(sorted.flip(0), 0).flip(0);
                   return (tail - sorted).sum() / static_cast<double>(s.size(0));
                 });
}

LossRegistry& loss_registry() {
  static LossRegistry registry("loss", register_builtin_losses);
  return registry;
}

std::shared_ptr<Loss> make_loss(const Config& options, const LossContext& context) {
  const bool by_name = options.json().is_string();
  const std::string type = by_name ? options.as<std::string>() : options.get<std::string>("type");
  if (!loss_registry().contains(type)) {
    const auto known = loss_registry().names();
    const std::string reason =
        fmt::format("unknown loss '{}'{}; registered: {}", type, did_you_mean(type, known), quoted_list(known));
    if (by_name) {
      options.fail(reason);
    }
    options.fail_at("type", reason);
  }
  return loss_registry().create(type, by_name ? Config(Json::object(), options.source()) : options, context);
}

}  // namespace finfuse::nn
