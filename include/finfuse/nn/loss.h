// Training losses (registry "loss"), chosen per head by name or built in C++
// (ClassificationHeadOptions(2).loss(FocalLoss(FocalLossOptions().gamma(1), context))). Cross-sectional losses (ic,
// ranknet, listnet, listmle) compare the samples of one decision day with each other; they receive each sample's day
// and average over days.
//
// Built-ins:
//   cross_entropy {class_weights: [w...] or "balanced", label_smoothing: 0}
//   focal         {gamma: 2, class_weights}            -sum_c w_y (1 - p_y)^gamma log p_y, averaged
//   bce           {pos_weight: 1}                       a single logit per sample, or the difference of two logits
//   hinge         {margin: 1}                           sum over j != y of max(0, margin - (s_y - s_j)), averaged;
//                                                       on one score per sample, max(0, margin - (2y - 1) s)
//   mse, huber    {delta: 1}
//   ic            negative Pearson correlation of predictions and targets per day
//   ranknet       log(1 + exp(-(s_i - s_j))) over the pairs of a day with target_i > target_j
//   listnet       {temperature: 1}  cross-entropy between softmax(target / T) and softmax(s) per day
//   listmle       Plackett-Luce likelihood of the targets' order per day
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/core/registry.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::nn {

/// What a loss may need from the training data when it is built.
struct LossContext {
  /// Classes of a classification head (0 otherwise).
  std::int64_t classes = 0;
  /// Training samples per class, for "balanced" class weights (empty when unknown).
  std::vector<double> class_counts;
};

class Loss {
 public:
  virtual ~Loss() = default;
  /// prediction: logits [B, C] (classification) or values [B]; target: class indices (int64) or values [B];
  /// day: [B] decision days for cross-sectional losses (undefined: the whole batch is one day). Returns a scalar.
  virtual torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                                const torch::Tensor& day = {}) const = 0;
  virtual Json options_json() const = 0;
  /// Whether the loss compares samples within a day (and so wants cross-sectional batches).
  virtual bool cross_sectional() const { return false; }
  /// Whether it takes class logits (and class-index targets).
  virtual bool classification() const { return false; }
};

// Class weights: a list with one weight per class, "balanced" (n / (classes x count_c), as scikit-learn) or null.
#define FINFUSE_CLASS_WEIGHTS_FIELD(F)                                                                              \
  F(::finfuse::Json, class_weights, nullptr, ::finfuse::FieldRule(),                                             \
    "a weight per class, or \"balanced\" (n / (classes x count) from the training labels); null: equal weights")

struct CrossEntropyLossOptions {
#define FINFUSE_CROSS_ENTROPY_FIELDS(F)                                                                             \
  FINFUSE_CLASS_WEIGHTS_FIELD(F)                                                                                   \
  F(double, label_smoothing, 0.0, ::finfuse::Range::half_open(0, 1), "mass moved from the label to all classes")
  FINFUSE_OPTIONS(CrossEntropyLossOptions, FINFUSE_CROSS_ENTROPY_FIELDS)
#undef FINFUSE_CROSS_ENTROPY_FIELDS
  void validate(const Config& config) const;
};

struct FocalLossOptions {
#define FINFUSE_FOCAL_FIELDS(F)                                                                                     \
  F(double, gamma, 2.0, ::finfuse::Range::non_negative(), "focusing exponent: (1 - p_y)^gamma down-weights easy samples") \
  FINFUSE_CLASS_WEIGHTS_FIELD(F)
  FINFUSE_OPTIONS(FocalLossOptions, FINFUSE_FOCAL_FIELDS)
#undef FINFUSE_FOCAL_FIELDS
  void validate(const Config& config) const;
};
#undef FINFUSE_CLASS_WEIGHTS_FIELD

struct BceLossOptions {
#define FINFUSE_BCE_FIELDS(F) \
  F(double, pos_weight, 1.0, ::finfuse::Range::positive(), "weight of the positive class's term")
  FINFUSE_OPTIONS(BceLossOptions, FINFUSE_BCE_FIELDS)
#undef FINFUSE_BCE_FIELDS
};

struct HingeLossOptions {
#define FINFUSE_HINGE_FIELDS(F) \
  F(double, margin, 1.0, ::finfuse::Range::positive(), "the margin by which the true class's score should lead")
  FINFUSE_OPTIONS(HingeLossOptions, FINFUSE_HINGE_FIELDS)
#undef FINFUSE_HINGE_FIELDS
};

struct HuberLossOptions {
#define FINFUSE_HUBER_FIELDS(F) \
  F(double, delta, 1.0, ::finfuse::Range::positive(), "where the loss turns from quadratic to linear")
  FINFUSE_OPTIONS(HuberLossOptions, FINFUSE_HUBER_FIELDS)
#undef FINFUSE_HUBER_FIELDS
};

struct ListNetLossOptions {
#define FINFUSE_LISTNET_FIELDS(F) \
  F(double, temperature, 1.0, ::finfuse::Range::positive(), "the targets' softmax temperature")
  FINFUSE_OPTIONS(ListNetLossOptions, FINFUSE_LISTNET_FIELDS)
#undef FINFUSE_LISTNET_FIELDS
};

/// Softmax cross-entropy over class logits, with class weights and label smoothing.
class CrossEntropyLoss : public Loss {
 public:
  /// Throws ConfigError at /class_weights for weights that do not fit `context` (their count, "balanced" without
  /// class counts).
  CrossEntropyLoss(CrossEntropyLossOptions options, const LossContext& context);
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override;
  bool classification() const override { return true; }

 private:
  CrossEntropyLossOptions options_;
  std::int64_t classes_;
  std::vector<double> weights_;
  torch::Tensor weight_tensor_;
};

/// -sum_c w_y (1 - p_y)^gamma log p_y, averaged (weighted by the class weights).
class FocalLoss : public Loss {
 public:
  FocalLoss(FocalLossOptions options, const LossContext& context);
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override;
  bool classification() const override { return true; }

 private:
  FocalLossOptions options_;
  std::int64_t classes_;
  std::vector<double> weights_;
  torch::Tensor weight_tensor_;
};

/// Binary cross-entropy on one logit per sample, or on the difference of two class logits.
class BceLoss : public Loss {
 public:
  explicit BceLoss(BceLossOptions options = {}) : options_(std::move(options)) {}
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override { return typed_json("bce", options_.to_json()); }
  bool classification() const override { return true; }

 private:
  BceLossOptions options_;
};

/// The multi-class hinge loss (Weston and Watkins): per sample, sum over the other classes j of
/// max(0, margin - (s_y - s_j)), averaged over the batch. With two classes it is the binary hinge loss on the
/// difference of the logits, max(0, margin - (2y - 1)(s_1 - s_0)); one score per sample ([B]) is read the same way.
/// Predictions stay logits: accuracy and ranking metrics read them as they read cross-entropy logits.
class HingeLoss : public Loss {
 public:
  explicit HingeLoss(HingeLossOptions options = {}) : options_(std::move(options)) {}
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override { return typed_json("hinge", options_.to_json()); }
  bool classification() const override { return true; }

 private:
  HingeLossOptions options_;
};

/// Mean squared error.
class MseLoss : public Loss {
 public:
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override { return Json{{"type", "mse"}}; }
};

class HuberLoss : public Loss {
 public:
  explicit HuberLoss(HuberLossOptions options = {}) : options_(std::move(options)) {}
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override { return typed_json("huber", options_.to_json()); }

 private:
  HuberLossOptions options_;
};

/// The negative Pearson correlation of predictions and targets, per day.
class IcLoss : public Loss {
 public:
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override { return Json{{"type", "ic"}}; }
  bool cross_sectional() const override { return true; }
};

/// log(1 + exp(-(s_i - s_j))) over the pairs of a day with target_i > target_j.
class RankNetLoss : public Loss {
 public:
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override { return Json{{"type", "ranknet"}}; }
  bool cross_sectional() const override { return true; }
};

/// Cross-entropy between softmax(target / T) and softmax(s), per day.
class ListNetLoss : public Loss {
 public:
  explicit ListNetLoss(ListNetLossOptions options = {}) : options_(std::move(options)) {}
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override { return typed_json("listnet", options_.to_json()); }
  bool cross_sectional() const override { return true; }

 private:
  ListNetLossOptions options_;
};

/// The Plackett-Luce likelihood of the targets' order, per day.
class ListMleLoss : public Loss {
 public:
  torch::Tensor forward(const torch::Tensor& prediction, const torch::Tensor& target,
                        const torch::Tensor& day = {}) const override;
  Json options_json() const override { return Json{{"type", "listmle"}}; }
  bool cross_sectional() const override { return true; }
};

using LossRegistry = Registry<std::shared_ptr<Loss>(const Config& options, const LossContext& context)>;

LossRegistry& loss_registry();

/// A loss from a name ("mse") or an options object ({"type": "focal", "gamma": 2}).
std::shared_ptr<Loss> make_loss(const Config& options, const LossContext& context = {});

}  // namespace finfuse::nn
