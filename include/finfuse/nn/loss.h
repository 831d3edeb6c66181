// Training losses (registry "loss"), chosen per head by name. Cross-sectional losses (ic, ranknet, listnet, listmle)
// compare the samples of one decision day with each other; they receive each sample's day and average over days.
//
// Built-ins:
//   cross_entropy {class_weights: [w...] or "balanced", label_smoothing: 0}
//   focal         {gamma: 2, class_weights}            -sum_c w_y (1 - p_y)^gamma log p_y, averaged
//   bce           {pos_weight: 1}                       a single logit per sample, or the difference of two logits
//   mse, huber    {delta: 1}
//   ic            negative Pearson correlation of predictions and targets per day
//   ranknet       log(1 + exp(-(s_i - s_j))) over the pairs of a day with target_i > target_j
//   listnet       {temperature: 1}  cross-entropy between softmax(target / T) and softmax(s) per day
//   listmle       Plackett-Luce likelihood of the targets' order per day
#pragma once

#include "finfuse/core/config.h"
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

using LossRegistry = Registry<std::shared_ptr<Loss>(const Config& options, const LossContext& context)>;

LossRegistry& loss_registry();

/// A loss from a name ("mse") or an options object ({"type": "focal", "gamma": 2}).
std::shared_ptr<Loss> make_loss(const Config& options, const LossContext& context = {});

}  // namespace finfuse::nn
