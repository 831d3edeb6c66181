// The training objective: the model's loss, the adversarial term, the L2 penalties.
#include "finfuse/training/objective.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/suggest.h"
#include "finfuse/training/optimizer.h"

#include <torch/csrc/autograd/autograd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace finfuse {

std::vector<training::L2Penalty> FieldCodec<std::vector<training::L2Penalty>>::read(const Config& parent,
                                                                                     const std::string& key) {
  const Config list = parent.child(key);
  if (!list.json().is_array()) {
    list.fail("expected a list of penalties, [{\"params\": \"heads.*\", \"weight\": 1.0}]");
  }
  std::vector<training::L2Penalty> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Config item = list[i];
    if (!item.is_object()) {
      item.fail("expected a penalty, {\"params\": pattern or patterns, \"weight\": lambda}");
    }
    if (item.contains("params") && item.json().at("params").is_string()) {
      // One pattern as a string: read as a list of one, errors still at this element's path.
      Json json = item.json();
      json["params"] = Json::array({json.at("params")});
      try {
        out.push_back(training::L2Penalty::from_config(Config(json, item.source())));
      } catch (const ConfigError& e) {
        throw ConfigError(item.pointer() + e.pointer(), e.reason(), e.source());
      }
    } else {
      out.push_back(training::L2Penalty::from_config(item));
    }
  }
  return out;
}

Json FieldCodec<std::vector<training::L2Penalty>>::write(const std::vector<training::L2Penalty>& penalties) {
  Json out = Json::array();
  for (const auto& p : penalties) {
    out.push_back(p.to_json());
  }
  return out;
}

}  // namespace finfuse

namespace finfuse::training {

void L2Penalty::validate(const Config& config) const {
  if (!(weight() >= 0.0) || !std::isfinite(weight())) {
    config.fail_at("weight", "must be a finite number >= 0");
  }
}

TrainingObjective::TrainingObjective(std::optional<AdversarialOptions> adversarial, std::vector<L2Penalty> penalties,
                                     models::MultimodalModelImpl& model)
    : adversarial_(std::move(adversarial)) {
  if (adversarial_ && adversarial_->target() != "fused") {
    const auto& names = model.modalities();
    const auto it = std::find(names.begin(), names.end(), adversarial_->target());
    if (it == names.end()) {
      auto known = names;
      known.insert(known.begin(), "fused");
      throw ConfigError("/adversarial/target",
                        fmt::format("the model has no representation '{}'{}; it has {}", adversarial_->target(),
                                    did_you_mean(adversarial_->target(), known), quoted_list(known)));
    }
    modality_ = it - names.begin();
  }
  const auto named = model.named_parameters();
  for (std::size_t k = 0; k < penalties.size(); ++k) {
    const auto& penalty = penalties[k];
    std::size_t found = 0;
    for (const auto& p : named) {
      if (!p.value().requires_grad()) {
        continue;
      }
      const bool selected = std::any_of(penalty.params().begin(), penalty.params().end(),
                                        [&](const std::string& pattern) { return matches_pattern(pattern, p.key()); });
      if (selected) {
        penalised_.emplace_back(p.value(), penalty.weight());
        ++found;
      }
    }
    if (found == 0) {
      std::vector<std::string> known;
      for (const auto& p : named) {
        known.push_back(p.key());
      }
      throw ConfigError(fmt::format("/l2/{}/params", k),
                        fmt::format("{} matches no trainable parameter of the model{}", quoted_list(penalty.params()),
                                    penalty.params().size() == 1 ? did_you_mean(penalty.params()[0], known)
                                                                 : std::string()));
    }
  }
}

torch::Tensor TrainingObjective::penalty() const {
  torch::Tensor total;
  for (const auto& [parameter, lambda] : penalised_) {
    const auto term = parameter.to(torch::kFloat32).pow(2).sum() * (0.5 * lambda);
    total = total.defined() ? total + term : term;
  }
  return total;
}

ObjectiveTerms TrainingObjective::operator()(models::MultimodalModelImpl& model, const data::Batch& batch) const {
  ObjectiveTerms terms;
  if (!adversarial_) {
    terms.output = model.forward(batch);
    terms.clean = model.loss(terms.output, batch);
  } else {
    auto input = model.encode(batch);
    // The representation the gradient is taken at; a leaf of its own where nothing trainable comes before it (a
    // frozen encoder), so that the gradient with respect to it exists.
    torch::Tensor e;
    if (modality_ < 0) {
      terms.output = model.fuse(input);
      e = terms.output.fused;
      if (!e.requires_grad()) {
        e = e.detach().requires_grad_(true);
        terms.output.predictions = model.predict(e);
      }
    } else {
      auto& pooled = input.modalities[static_cast<std::size_t>(modality_)].pooled;
      if (!pooled.requires_grad()) {
        pooled = pooled.detach().requires_grad_(true);
      }
      e = pooled;
      terms.output = model.fuse(input);
    }
    terms.clean = model.loss(terms.output, batch);
    // The gradient of each sample's own loss: the batch mean's gradient times the batch size. Its length is
    // normalised away, but without the 1 / B of the mean it does not underflow under float16 autocast on a large
    // batch; one that is not finite (an overflow) moves no sample.
    const double batch_size = static_cast<double>(std::max<std::int64_t>(e.size(0), 1));
    auto g = torch::autograd::grad({terms.clean.total * batch_size}, {e}, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                   /*create_graph=*/false, /*allow_unused=*/true)[0];
    if (!g.defined()) {
      g = torch::zeros_like(e);
    } else if (g.scalar_type() != torch::kFloat32 && g.scalar_type() != torch::kFloat64) {
      g = torch::nan_to_num(g.to(torch::kFloat32), 0.0, 0.0, 0.0);
    }
    // Per sample: epsilon x g / ||g|| (TensorFlow's l2_normalize: a sample whose gradient vanishes is not moved).
    const auto flat = g.detach().to(g.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32)
                          .reshape({g.size(0), -1});
    const auto inverse_norm = torch::rsqrt(flat.pow(2).sum(1, /*keepdim=*/true).clamp_min(1e-12));
    const auto delta = (flat * inverse_norm * adversarial_->epsilon()).reshape(g.sizes()).to(e.scalar_type());
    models::ModelOutput perturbed;
    if (modality_ < 0) {
      perturbed.predictions = model.predict(e + delta);
    } else {
      input.modalities[static_cast<std::size_t>(modality_)].pooled = e + delta;
      perturbed = model.fuse(input);
    }
    terms.adversarial = model.loss(perturbed, batch).total;
  }
  terms.total = terms.clean.total;
  if (terms.adversarial.defined()) {
    terms.total = terms.total + terms.adversarial * adversarial_->weight();
  }
  if (!penalised_.empty()) {
    terms.penalty = penalty();
    terms.total = terms.total + terms.penalty.to(terms.total.scalar_type());
  }
  return terms;
}

}  // namespace finfuse::training
