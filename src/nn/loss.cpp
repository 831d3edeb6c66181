#include "finfuse/nn/loss.h"

#include "finfuse/core/check.h"
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

// Class weights from options: a list (one per class) or "balanced" (n / (classes x count_c), as scikit-learn).
std::vector<double> class_weights(const Config& options, const LossContext& context) {
  if (!options.contains("class_weights") || options.json().at("class_weights").is_null()) {
    return {};
  }
  const auto& value = options.json().at("class_weights");
  std::vector<double> weights;
  if (value.is_string()) {
    if (value.get<std::string>() != "balanced") {
      options.fail_at("class_weights", "must be a list of weights, one per class, or \"balanced\"");
    }
    if (context.class_counts.empty()) {
      options.fail_at("class_weights", "\"balanced\" needs the training labels, which are not known here");
    }
    double total = 0.0;
    for (const double c : context.class_counts) {
      total += c;
    }
    for (const double c : context.class_counts) {
      weights.push_back(c > 0.0 ? total / (static_cast<double>(context.class_counts.size()) * c) : 0.0);
    }
  } else {
    weights = options.get<std::vector<double>>("class_weights");
    if (context.classes > 0 && static_cast<std::int64_t>(weights.size()) != context.classes) {
      options.fail_at("class_weights", fmt::format("has {} weights for {} classes", weights.size(), context.classes));
    }
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (!(weights[i] >= 0.0)) {
        options.child("class_weights")[i].fail("must be >= 0");
      }
    }
  }
  return weights;
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

class CrossEntropy : public Loss {
 public:
  CrossEntropy(const Config& options, const LossContext& context) : classes_(context.classes) {
    weight_values_ = class_weights(options, context);
    weights_ = weights_tensor(weight_values_);
    smoothing_ = options.get<double>("label_smoothing", 0.0, Range::half_open(0, 1));
    options.reject_unknown_keys();
  }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor&) const override {
    check_logits(prediction, target, classes_, "cross_entropy");
    auto o = F::CrossEntropyFuncOptions().label_smoothing(smoothing_);
    if (weights_.defined()) {
      o = o.weight(weights_.to(prediction.device(), widened(prediction).scalar_type()));
    }
    return F::cross_entropy(widened(prediction), target.to(torch::kInt64), o);
  }
  Json options_json() const override {
    return Json{{"type", "cross_entropy"}, {"class_weights", weights_json(weight_values_)},
                {"label_smoothing", smoothing_}};
  }
  bool classification() const override { return true; }

 private:
  std::int64_t classes_;
  std::vector<double> weight_values_;
  torch::Tensor weights_;
  double smoothing_;
};

class Focal : public Loss {
 public:
  Focal(const Config& options, const LossContext& context) : classes_(context.classes) {
    gamma_ = options.get<double>("gamma", 2.0, Range::non_negative());
    weight_values_ = class_weights(options, context);
    weights_ = weights_tensor(weight_values_);
    options.reject_unknown_keys();
  }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor&) const override {
    check_logits(prediction, target, classes_, "focal");
    const auto y = target.to(torch::kInt64).unsqueeze(1);
    const auto log_p = torch::log_softmax(widened(prediction), 1).gather(1, y).squeeze(1);
    auto loss = -torch::pow(1.0 - log_p.exp(), gamma_) * log_p;
    if (weights_.defined()) {
      const auto w = weights_.to(prediction.device(), log_p.scalar_type()).index_select(0, y.squeeze(1));
      return (loss * w).sum() / w.sum();
    }
    return loss.mean();
  }
  Json options_json() const override {
    return Json{{"type", "focal"}, {"gamma", gamma_}, {"class_weights", weights_json(weight_values_)}};
  }
  bool classification() const override { return true; }

 private:
  std::int64_t classes_;
  double gamma_;
  std::vector<double> weight_values_;
  torch::Tensor weights_;
};

class Bce : public Loss {
 public:
  explicit Bce(const Config& options) {
    pos_weight_ = options.get<double>("pos_weight", 1.0, Range::positive());
    options.reject_unknown_keys();
  }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor&) const override {
    torch::Tensor logit = widened(prediction);
    if (logit.dim() == 2 && logit.size(1) == 2) {
      logit = logit.select(1, 1) - logit.select(1, 0);  // two-class logits: log-odds of class 1
    }
    check_values(logit, target, "bce");
    return F::binary_cross_entropy_with_logits(
        logit, target.to(widened(prediction).scalar_type()),
        F::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(torch::full({1}, pos_weight_, logit.options())));
  }
  Json options_json() const override { return Json{{"type", "bce"}, {"pos_weight", pos_weight_}}; }
  bool classification() const override { return true; }

 private:
  double pos_weight_;
};

class Mse : public Loss {
 public:
  explicit Mse(const Config& options) { options.reject_unknown_keys(); }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor&) const override {
    check_values(prediction, target, "mse");
    return F::mse_loss(widened(prediction), target.to(widened(prediction).scalar_type()));
  }
  Json options_json() const override { return Json{{"type", "mse"}}; }
};

class Huber : public Loss {
 public:
  explicit Huber(const Config& options) {
    delta_ = options.get<double>("delta", 1.0, Range::positive());
    options.reject_unknown_keys();
  }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor&) const override {
    check_values(prediction, target, "huber");
    return F::huber_loss(widened(prediction), target.to(widened(prediction).scalar_type()),
                         F::HuberLossFuncOptions().delta(delta_));
  }
  Json options_json() const override { return Json{{"type", "huber"}, {"delta", delta_}}; }

 private:
  double delta_;
};

class Ic : public Loss {
 public:
  explicit Ic(const Config& options) { options.reject_unknown_keys(); }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day) const override {
    check_values(prediction, target, "ic");
    return per_day(widened(prediction), target.to(widened(prediction).scalar_type()), day, 2,
                   [](const torch::Tensor& p, const torch::Tensor& y) {
                     const auto dp = p - p.mean();
                     const auto dy = y - y.mean();
                     const auto denominator = torch::sqrt((dp * dp).sum() * (dy * dy).sum() + 1e-12);
                     return -(dp * dy).sum() / denominator;
                   });
  }
  Json options_json() const override { return Json{{"type", "ic"}}; }
  bool cross_sectional() const override { return true; }
};

class RankNet : public Loss {
 public:
  explicit RankNet(const Config& options) { options.reject_unknown_keys(); }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day) const override {
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
  Json options_json() const override { return Json{{"type", "ranknet"}}; }
  bool cross_sectional() const override { return true; }
};

class ListNet : public Loss {
 public:
  explicit ListNet(const Config& options) {
    temperature_ = options.get<double>("temperature", 1.0, Range::positive());
    options.reject_unknown_keys();
  }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day) const override {
    check_values(prediction, target, "listnet");
    const double t = temperature_;
    return per_day(widened(prediction), target.to(widened(prediction).scalar_type()), day, 2,
                   [t](const torch::Tensor& s, const torch::Tensor& y) {
                     return -(torch::softmax(y / t, 0) * torch::log_softmax(s, 0)).sum();
                   });
  }
  Json options_json() const override { return Json{{"type", "listnet"}, {"temperature", temperature_}}; }
  bool cross_sectional() const override { return true; }

 private:
  double temperature_;
};

class ListMle : public Loss {
 public:
  explicit ListMle(const Config& options) { options.reject_unknown_keys(); }
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day) const override {
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
  Json options_json() const override { return Json{{"type", "listmle"}}; }
  bool cross_sectional() const override { return true; }
};

void register_builtin_losses(LossRegistry& registry) {
  registry.add("cross_entropy", [](const Config& o, const LossContext& c) -> std::shared_ptr<Loss> {
    return std::make_shared<CrossEntropy>(o, c);
  });
  registry.add("focal", [](const Config& o, const LossContext& c) -> std::shared_ptr<Loss> {
    return std::make_shared<Focal>(o, c);
  });
  registry.add("bce", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> { return std::make_shared<Bce>(o); });
  registry.add("mse", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> { return std::make_shared<Mse>(o); });
  registry.add("huber", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> { return std::make_shared<Huber>(o); });
  registry.add("ic", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> { return std::make_shared<Ic>(o); });
  registry.add("ranknet", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> {
    return std::make_shared<RankNet>(o);
  });
  registry.add("listnet", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> {
    return std::make_shared<ListNet>(o);
  });
  registry.add("listmle", [](const Config& o, const LossContext&) -> std::shared_ptr<Loss> {
    return std::make_shared<ListMle>(o);
  });
}

}  // namespace

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
