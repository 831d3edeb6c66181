// Prediction heads on the fused vector. A head reads the fused vector [B, D], predicts, names the batch target it
// learns, and scores itself with its loss; a multi-task model weighs the heads' losses.
//
// Built-ins (registry "head"), each an MLP from the fused vector to its output:
//   classification  logits over `classes` (>= 2); loss cross_entropy by default
//   regression      one value per sample; loss mse by default
//   ranking         one score per sample, compared within a decision day; loss listnet by default
//
//   auto head = ClassificationHead(ClassificationHeadOptions(3).layers({32}).loss("focal"), /*in_features=*/64);
//   auto same = make_head(Config(head->options_json()), HeadContext{64});
//
// A head of one's own derives from Head and is registered with head_registry().add(name, factory), or is handed to
// the model built in C++.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/core/registry.h"
#include "finfuse/data/batch.h"
#include "finfuse/nn/loss.h"
#include "finfuse/nn/mlp.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::models {

/// A prediction head: the contract the model relies on.
class Head : public torch::nn::Module {
 public:
  /// [B, in_features()] -> logits [B, classes()] for a classification head, values [B] otherwise.
  virtual torch::Tensor forward(const torch::Tensor& fused) = 0;
  /// The target this head learns, from the batch: [B] (class indices as int64 for classification). Throws
  /// finfuse::Error naming the head when the batch lacks it or a class index is out of range.
  virtual torch::Tensor target(const data::Batch& batch) const = 0;
  /// The head's loss (a scalar); `day` groups the samples of cross-sectional losses.
  virtual torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& target,
                             const torch::Tensor& day = {}) const = 0;
  /// Classes of a classification head; 0 for a head that predicts one value per sample.
  virtual std::int64_t classes() const { return 0; }
  /// The metrics that score it by default: "classification", "regression" or "ranking" (see
  /// evaluation::default_metrics).
  virtual std::string task() const = 0;
  /// Weight of its loss in a multi-task model's loss.
  virtual double weight() const { return 1.0; }
  /// Width of the fused vector it reads.
  virtual std::int64_t in_features() const = 0;
  /// Its options with "type", as its registry reads them back (a user's head that is never built from
  /// configuration may return any description).
  virtual Json options_json() const = 0;

  bool is_classification() const { return classes() > 0; }
  std::int64_t output_size() const { return is_classification() ? classes() : 1; }
  /// The name the model knows it by (set by the model; "" before), for error messages.
  const std::string& head_name() const { return head_name_; }
  void set_head_name(std::string name) { head_name_ = std::move(name); }

 private:
  std::string head_name_;
};

/// The fields every built-in head has; `default_loss` is the head's default loss.
#define FINFUSE_HEAD_FIELDS(F, default_loss)                                                                  \
  F(std::vector<std::int64_t>, layers, {}, ::finfuse::Range::positive(),                                    \
    "hidden layer widths before the output layer (empty: a linear head)")                                     \
  F(std::string, activation, "relu", ::finfuse::FieldRule(), "activation of the hidden layers (registry name)") \
  F(double, dropout, 0.0, ::finfuse::Range::half_open(0, 1), "dropout after each hidden layer")              \
  F(double, weight, 1.0, ::finfuse::Range::non_negative(), "weight of this head's loss in the model's loss")  \
  F(std::string, target, "label", ::finfuse::FieldRule::one_of({"label", "forward_return"}),                 \
    "the batch target it learns: the dataset's label or the forward return")                                 \
  F(::finfuse::Json, loss, default_loss, ::finfuse::FieldRule(),                                             \
    "the loss: a registered name or an options object (see nn/loss.h)")

/// Every built-in head's options also take a loss built in C++: .loss(nn::FocalLoss(nn::FocalLossOptions(), context)).
#define FINFUSE_HEAD_TYPED_LOSS(Self)                                                                         \
  Self& loss(const ::finfuse::nn::Loss& typed) { return loss(typed.options_json()); }

namespace detail {
/// The checks of FINFUSE_HEAD_FIELDS: a registered activation and a registered loss name.
void validate_head_fields(const Config& config, const std::string& activation, const Json& loss);
}  // namespace detail

struct ClassificationHeadOptions {
  explicit ClassificationHeadOptions(std::int64_t classes = 2) { classes_ = classes; }

#define FINFUSE_CLASSIFICATION_HEAD_FIELDS(F)                                                   \
  F(std::int64_t, classes, 2, ::finfuse::Range::at_least(2), "number of classes")              \
  FINFUSE_HEAD_FIELDS(F, "cross_entropy")
  FINFUSE_OPTIONS(ClassificationHeadOptions, FINFUSE_CLASSIFICATION_HEAD_FIELDS)
#undef FINFUSE_CLASSIFICATION_HEAD_FIELDS

 public:
  FINFUSE_HEAD_TYPED_LOSS(ClassificationHeadOptions)
  void validate(const Config& config) const { detail::validate_head_fields(config, activation(), loss()); }
};

struct RegressionHeadOptions {
#define FINFUSE_REGRESSION_HEAD_FIELDS(F) FINFUSE_HEAD_FIELDS(F, "mse")
  FINFUSE_OPTIONS(RegressionHeadOptions, FINFUSE_REGRESSION_HEAD_FIELDS)
#undef FINFUSE_REGRESSION_HEAD_FIELDS

 public:
  FINFUSE_HEAD_TYPED_LOSS(RegressionHeadOptions)
  void validate(const Config& config) const { detail::validate_head_fields(config, activation(), loss()); }
};

struct RankingHeadOptions {
#define FINFUSE_RANKING_HEAD_FIELDS(F) FINFUSE_HEAD_FIELDS(F, "listnet")
  FINFUSE_OPTIONS(RankingHeadOptions, FINFUSE_RANKING_HEAD_FIELDS)
#undef FINFUSE_RANKING_HEAD_FIELDS

 public:
  FINFUSE_HEAD_TYPED_LOSS(RankingHeadOptions)
  void validate(const Config& config) const { detail::validate_head_fields(config, activation(), loss()); }
};

/// What the built-in heads share: an MLP from the fused vector to the output, a loss, and the batch target.
class MlpHead : public Head {
 public:
  torch::Tensor forward(const torch::Tensor& fused) override;
  torch::Tensor target(const data::Batch& batch) const override;
  torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& target,
                     const torch::Tensor& day = {}) const override;
  double weight() const override { return weight_; }
  std::int64_t in_features() const override { return mlp_->options.in_features(); }

  const nn::Loss& loss_function() const { return *loss_; }
  /// "label" or "forward_return".
  const std::string& target_field() const { return target_; }
  nn::Mlp mlp() const { return mlp_; }

 protected:
  struct Parts {
    std::vector<std::int64_t> layers;
    std::string activation;
    double dropout = 0.0;
    double weight = 1.0;
    std::string target;
    Json loss;
  };
  template <typename Options>
  static Parts parts_of(const Options& o) {
    return Parts{o.layers(), o.activation(), o.dropout(), o.weight(), o.target(), o.loss()};
  }

  /// `classes` 0 builds a one-value head. `context` gives the training class counts for "balanced" class weights
  /// (used when the head learns the label); `source`, the head's configuration, places errors in the loss options at
  /// their JSON path. `kind` names the head in errors ("classification").
  MlpHead(const std::string& kind, std::int64_t in_features, std::int64_t classes, const Parts& parts,
          const nn::LossContext& context, const Config* source);
  /// The loss options as built (defaults filled in).
  Json resolved_loss() const { return loss_->options_json(); }

 private:
  nn::Mlp mlp_{nullptr};
  std::shared_ptr<nn::Loss> loss_;
  std::int64_t classes_;
  double weight_;
  std::string target_;
};

class ClassificationHeadImpl : public MlpHead {
 public:
  ClassificationHeadImpl(ClassificationHeadOptions options, std::int64_t in_features,
                         const nn::LossContext& context = {}, const Config* source = nullptr);
  std::int64_t classes() const override { return options_.classes(); }
  std::string task() const override { return "classification"; }
  Json options_json() const override { return typed_json("classification", options_.to_json()); }
  const ClassificationHeadOptions& options() const { return options_; }

 private:
  ClassificationHeadOptions options_;
};

class RegressionHeadImpl : public MlpHead {
 public:
  RegressionHeadImpl(RegressionHeadOptions options, std::int64_t in_features, const nn::LossContext& context = {},
                     const Config* source = nullptr);
  std::string task() const override { return "regression"; }
  Json options_json() const override { return typed_json("regression", options_.to_json()); }
  const RegressionHeadOptions& options() const { return options_; }

 private:
  RegressionHeadOptions options_;
};

class RankingHeadImpl : public MlpHead {
 public:
  RankingHeadImpl(RankingHeadOptions options, std::int64_t in_features, const nn::LossContext& context = {},
                  const Config* source = nullptr);
  std::string task() const override { return "ranking"; }
  Json options_json() const override { return typed_json("ranking", options_.to_json()); }
  const RankingHeadOptions& options() const { return options_; }

 private:
  RankingHeadOptions options_;
};

TORCH_MODULE(ClassificationHead);
TORCH_MODULE(RegressionHead);
TORCH_MODULE(RankingHead);

/// What a head factory needs besides its options.
struct HeadContext {
  HeadContext(std::int64_t in_features_ = 0, nn::LossContext label_context_ = {})  // NOLINT: HeadContext{64}
      : in_features(in_features_), label_context(std::move(label_context_)) {}

  /// Width of the fused vector.
  std::int64_t in_features = 0;
  /// Training class counts of the dataset's label (for "balanced" class weights).
  nn::LossContext label_context;
};

using HeadRegistry = Registry<std::shared_ptr<Head>(const Config& options, const HeadContext& context)>;

/// The head registry. Built-ins: "classification", "regression", "ranking".
HeadRegistry& head_registry();

/// Creates the head named by options["type"] ("classification" when absent); unknown types and keys are
/// ConfigErrors at their path.
std::shared_ptr<Head> make_head(const Config& options, const HeadContext& context);

}  // namespace finfuse::models
