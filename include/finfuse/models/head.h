// Prediction heads on the fused vector: classification (logits over classes), regression (one value) and ranking
// (one score per sample, compared within a decision day). A head names the batch target it learns and its weight in
// a multi-task model's loss.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/batch.h"
#include "finfuse/nn/loss.h"
#include "finfuse/nn/mlp.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::models {

struct HeadOptions {
  /// "classification", "regression" or "ranking".
  std::string type = "classification";
  /// Classification: the number of classes (>= 2).
  std::int64_t classes = 2;
  /// Hidden layer widths before the output layer (empty: a linear head).
  std::vector<std::int64_t> layers;
  std::string activation = "relu";
  double dropout = 0.0;
  /// Weight of this head's loss in the model's loss.
  double weight = 1.0;
  /// The batch target it learns: "label" (the dataset's label) or "forward_return".
  std::string target = "label";
  /// The loss (a name or options, see nn/loss.h); default cross_entropy for classification, mse for regression,
  /// listnet for ranking.
  Json loss;

  static HeadOptions from_config(const Config& config);
  Json to_json() const;
  bool is_classification() const { return type == "classification"; }
};

class HeadImpl : public torch::nn::Module {
 public:
  /// `context` supplies the training class counts for "balanced" class weights; `source`, the head's configuration,
  /// places errors in the loss options at their JSON path.
  HeadImpl(std::string name, HeadOptions options, std::int64_t in_features, const nn::LossContext& context = {},
           const Config* source = nullptr);

  /// [B, in_features] -> logits [B, classes] for classification, values [B] otherwise.
  torch::Tensor forward(const torch::Tensor& fused);
  /// The target this head learns, from the batch: [B] (class indices as int64 for classification). Throws
  /// finfuse::Error naming the head when the batch lacks it or a class index is out of range.
  torch::Tensor target(const data::Batch& batch) const;
  /// The head's loss; `day` groups the samples of cross-sectional losses.
  torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& target, const torch::Tensor& day = {}) const;
  const nn::Loss& loss_function() const { return *loss_; }

  const std::string& name() const { return name_; }
  const HeadOptions& options() const { return options_; }
  std::int64_t output_size() const { return options_.is_classification() ? options_.classes : 1; }

 private:
  std::string name_;
  HeadOptions options_;
  nn::Mlp mlp_{nullptr};
  std::shared_ptr<nn::Loss> loss_;
};

TORCH_MODULE(Head);

}  // namespace finfuse::models
