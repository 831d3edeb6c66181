// The training objective: the model's loss, plus an adversarial term and L2 penalties on chosen parameters.
//
//   objective = L(e) + weight x L(e + epsilon x g / ||g||) + sum_k lambda_k x 1/2 ||w_k||^2
//
// Adversarial training (Goodfellow et al. 2015, on a latent representation as in Adv-ALSTM, Feng et al. 2019)
// perturbs a representation e of each sample (the fused vector by default, or one modality's encoder output) along
// the gradient g of the loss with respect to it, normalised per sample, and adds the loss at the perturbed point. The
// perturbation is a constant of the step (no gradient flows through g); both passes share one encoding, so modality
// dropout removes the same modalities from both. The L2 penalty of a group is lambda x 1/2 sum of squares (TensorFlow's
// l2_loss): its gradient is lambda x w, the same as SGD weight decay of lambda, but it applies to the chosen
// parameters only and whatever the optimizer.
//
//   TrainerOptions()
//       .adversarial(AdversarialOptions().weight(0.01).epsilon(0.05))
//       .l2({L2Penalty().params({"heads.*"}).weight(1.0)})
//   "training": {"adversarial": {"weight": 0.01, "epsilon": 0.05, "target": "fused"},
//                "l2": [{"params": "heads.*", "weight": 1.0}]}
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/batch.h"
#include "finfuse/models/multimodal_model.h"

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace finfuse::training {

struct AdversarialOptions {
#define FINFUSE_ADVERSARIAL_FIELDS(F)                                                                              \
  F(double, weight, 1.0, ::finfuse::Range::non_negative(), "weight of the loss at the perturbed representation")  \
  F(double, epsilon, 0.05, ::finfuse::Range::positive(),                                                          \
    "size (L2 norm per sample) of the perturbation along the loss gradient")                                       \
  F(std::string, target, "fused", ::finfuse::FieldRule(),                                                          \
    "the representation perturbed: \"fused\" (the fusion layer's output) or a modality's name (its encoder's "    \
    "vector)")
  FINFUSE_OPTIONS(AdversarialOptions, FINFUSE_ADVERSARIAL_FIELDS)
#undef FINFUSE_ADVERSARIAL_FIELDS
};

struct L2Penalty {
#define FINFUSE_L2_PENALTY_FIELDS(F)                                                                                \
  F(std::vector<std::string>, params, {}, ::finfuse::FieldRule::required().non_empty("must name at least one pattern"), \
    "name patterns of the penalised parameters ('*' matches any run of characters; a string is one pattern)")    \
  F(double, weight, 0.0, ::finfuse::FieldRule::required(), "lambda: the penalty is lambda x 1/2 sum of squares")
  FINFUSE_OPTIONS(L2Penalty, FINFUSE_L2_PENALTY_FIELDS)
#undef FINFUSE_L2_PENALTY_FIELDS

 public:
  void validate(const Config& config) const;
};

}  // namespace finfuse::training

namespace finfuse {

/// The trainer's "l2" field: a list of penalties, each {"params": pattern or patterns, "weight": lambda}.
template <>
struct FieldCodec<std::vector<training::L2Penalty>> {
  static std::string type_name() { return "list of {params, weight}"; }
  static FieldRule rule() { return {}; }
  static std::vector<training::L2Penalty> read(const Config& parent, const std::string& key);
  static Json write(const std::vector<training::L2Penalty>& penalties);
};

}  // namespace finfuse

namespace finfuse::training {

/// The terms of one evaluation of the objective.
struct ObjectiveTerms {
  /// What is minimised: clean + weight x adversarial + penalty.
  torch::Tensor total;
  /// The model's outputs and loss on the batch as it is.
  models::ModelOutput output;
  models::LossResult clean;
  /// The loss at the perturbed representation (undefined without adversarial training).
  torch::Tensor adversarial;
  /// The sum of the L2 penalties (undefined without any).
  torch::Tensor penalty;
};

class TrainingObjective {
 public:
  /// Checks the options against `model`: a target that is neither "fused" nor one of its modalities is a ConfigError
  /// at /adversarial/target, a penalty pattern that matches no trainable parameter one at /l2/<i>/params.
  TrainingObjective(std::optional<AdversarialOptions> adversarial, std::vector<L2Penalty> penalties,
                    models::MultimodalModelImpl& model);

  /// The objective on `batch` (in the model's current mode), ready for backward().
  ObjectiveTerms operator()(models::MultimodalModelImpl& model, const data::Batch& batch) const;

  bool adversarial() const { return adversarial_.has_value(); }
  bool penalised() const { return !penalised_.empty(); }

 private:
  torch::Tensor penalty() const;

  std::optional<AdversarialOptions> adversarial_;
  /// Index of the perturbed modality; -1 for the fused vector.
  std::int64_t modality_ = -1;
  /// Each penalised parameter with its lambda.
  std::vector<std::pair<torch::Tensor, double>> penalised_;
};

}  // namespace finfuse::training
