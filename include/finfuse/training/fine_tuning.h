// Fine-tuning a pretrained part of the model (an encoder that started from a pretrained model): its own learning
// rate, layer-wise learning-rate decay (each layer below the top learns at `layer_decay` times the rate of the one
// above), and freezing its lowest layers, optionally unfreezing them one at a time from the top down (gradual
// unfreezing). The layers are the encoder's own (encoders::Encoder::layers(): a BERT-style encoder's embeddings and
// encoder layers, a ResNet's stem and stages); its parameters under none of them form the top.
//
//   TrainerOptions().fine_tuning({FineTuningOptions().module("encoders.text").lr(2e-5).layer_decay(0.9)
//                                     .frozen_layers(3).unfreeze_every(1)})
//   "training": {"fine_tuning": [{"module": "encoders.text", "lr": 2e-5, "layer_decay": 0.9,
//                                 "frozen_layers": 3, "unfreeze_every": 1}]}
//
// With L layers, layer d (0 = the lowest) learns at lr x layer_decay^(L - d), the top at lr. In epoch e (from 0),
// the lowest max(0, frozen_layers - floor(e / unfreeze_every)) layers are frozen (unfreeze_every 0: they stay frozen).
#pragma once

#include "finfuse/core/options.h"

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::training {

struct FineTuningOptions {
#define FINFUSE_FINE_TUNING_FIELDS(F)                                                                                 \
  F(std::string, module, "", ::finfuse::FieldRule::required(),                                                      \
    "the pretrained part by module name (\"encoders.text\": the text encoder)")                                      \
  F(std::optional<double>, lr, std::nullopt, ::finfuse::Range::positive(),                                          \
    "learning rate of the part's top layer (null: the optimizer's, or its parameter group's)")                       \
  F(double, layer_decay, 1.0, ::finfuse::Range::closed(0, 1),                                \
    "each layer learns at this factor of the rate of the layer above (1: the same rate throughout)")                 \
  F(std::int64_t, frozen_layers, 0, ::finfuse::Range::non_negative(),                                               \
    "the lowest layers kept fixed at the start (more than the part has: the whole part)")                            \
  F(std::int64_t, unfreeze_every, 0, ::finfuse::Range::non_negative(),                                              \
    "after every this many epochs the highest frozen layer is unfrozen (0: frozen layers stay frozen)")
  FINFUSE_OPTIONS(FineTuningOptions, FINFUSE_FINE_TUNING_FIELDS)
#undef FINFUSE_FINE_TUNING_FIELDS
};

}  // namespace finfuse::training

namespace finfuse {

/// The trainer's "fine_tuning" field: a list of parts (one object is a list of one).
template <>
struct FieldCodec<std::vector<training::FineTuningOptions>> {
  static std::string type_name() { return "list of {module, lr, layer_decay, frozen_layers, unfreeze_every}"; }
  static FieldRule rule() { return {}; }
  static std::vector<training::FineTuningOptions> read(const Config& parent, const std::string& key);
  static Json write(const std::vector<training::FineTuningOptions>& parts);
};

}  // namespace finfuse

namespace finfuse::training {

/// The fine-tuning plan of a model: which parameters belong to which part and layer.
class FineTuning {
 public:
  /// Finds each part in `model` by module name; ConfigError at /training/fine_tuning/<i>/module naming the modules there
  /// are when one is missing, or when two parts overlap.
  FineTuning(const std::vector<FineTuningOptions>& options, torch::nn::Module& model);

  /// The optimizer's options with parameter groups for the parts' layers put first (each keeping the overrides of
  /// the configured group its parameters would have joined), so that they can learn at their own rates.
  Json optimizer_options(const Json& optimizer) const;
  /// Sets the learning rates of the groups optimizer_options() added (the optimizer built from them).
  void set_learning_rates(torch::optim::Optimizer& optimizer) const;
  /// Freezes and unfreezes the parts' layers for `epoch` (from 0); a frozen parameter loses its gradient. Returns
  /// a line saying what changed (empty when nothing did).
  std::string apply(std::int64_t epoch);

  /// Layer d of a part (0 = lowest; its layer count = the top) per parameter name, for tests and logs.
  struct Member {
    std::size_t part = 0;
    std::int64_t layer = 0;
    std::string name;
    torch::Tensor parameter;
  };
  const std::vector<Member>& members() const { return members_; }
  /// Layers of each part (the top included).
  const std::vector<std::int64_t>& layer_counts() const { return layers_; }

 private:
  struct Group {
    std::size_t part = 0;
    std::int64_t layer = 0;
    /// Index of the configured group the parameters would have joined (-1: the default group).
    std::int64_t configured = -1;
    std::vector<std::string> names;
  };
  std::vector<Group> groups(const Json& optimizer) const;
  bool rates_differ(std::size_t part) const;

  std::vector<FineTuningOptions> options_;
  std::vector<Member> members_;
  /// Names of the model's trainable parameters.
  std::vector<std::string> trainable_;
  std::vector<std::int64_t> layers_;
  /// Frozen layer count of each part as last applied (-1: not yet).
  std::vector<std::int64_t> frozen_;
};

}  // namespace finfuse::training
