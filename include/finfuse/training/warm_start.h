// Warm start: a run begins from another run's weights (fine-tuning an adversarial model from a trained one, a
// prices-and-text model from a prices-only one). The source is a bundle (folder or archive), a checkpoint file, a
// folder of checkpoints (the newest complete one), or a best.pt; the weights are matched by name, and only the
// tensors the patterns select are taken. Optimizer state, schedule and epoch count start afresh (to continue a run,
// resume it instead). A resumed run's checkpoint overrides the warm start.
//
//   TrainerOptions().warm_start(WarmStartOptions().path("runs/alstm/bundle").params({"encoders.*"}))
//   "training": {"warm_start": {"path": "runs/alstm/seed-{seed}/bundle", "params": ["*"], "strict": true}}
//
// "{seed}" in the path is replaced by the run's seed, so that each seed of a multi-seed run starts from the run of the
// same seed.
#pragma once

#include "finfuse/core/options.h"

#include <torch/nn/module.h>

#include <filesystem>
#include <string>
#include <vector>

namespace finfuse::training {

struct WarmStartOptions {
#define FINFUSE_WARM_START_FIELDS(F)                                                                                \
  F(std::filesystem::path, path, {}, ::finfuse::FieldRule::required(),                                             \
    "a bundle (folder or archive), a checkpoint, a folder of checkpoints (the newest) or a best.pt; \"{seed}\" "    \
    "becomes the run's seed")                                                                                      \
  F(std::vector<std::string>, params, (std::vector<std::string>{"*"}),                                             \
    ::finfuse::FieldRule().non_empty("must name at least one pattern"),                                            \
    "name patterns of the parameters and buffers taken from the source ('*' matches any run of characters)")       \
  F(bool, strict, true, ::finfuse::FieldRule(),                                                                    \
    "every selected tensor must be in the source with the same shape (false: the others keep their initial "      \
    "values, and are listed in the log)")
  FINFUSE_OPTIONS(WarmStartOptions, FINFUSE_WARM_START_FIELDS)
#undef FINFUSE_WARM_START_FIELDS
};

struct WarmStartReport {
  /// The file the weights were read from (the newest checkpoint of a folder, or the bundle).
  std::filesystem::path source;
  /// "bundle", "checkpoint" or "weights" (a best.pt).
  std::string kind;
  /// The tensors copied, and the selected ones the source lacks or holds in another shape (strict: none).
  std::vector<std::string> loaded;
  std::vector<std::string> kept;
};

/// Copies the selected parameters and buffers of `model` from the source named in `options`. IoError or DataError
/// naming the file when it cannot be read or is none of the kinds above; with `strict`, DataError naming the first
/// tensor the source lacks or holds in another shape (both shapes); ConfigError at /warm_start/params when the
/// patterns select nothing.
WarmStartReport warm_start(torch::nn::Module& model, const WarmStartOptions& options);

}  // namespace finfuse::training
