// The run configuration the finfuse tool and the example programs read: one JSON file with the runtime, data,
// model, training and experiment sections.
//
//   {"runtime": {...}, "data": {...}, "model": {...}, "training": {...}, "experiment": {"seeds": [1, 2, 3]},
//    "distributed": {...}, "tracking": {"tensorboard": "runs/tb"}}
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/core/runtime.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/training/distributed.h"
#include "finfuse/training/trainer.h"

#include <cstdint>
#include <filesystem>
#include <vector>

namespace finfuse::training {

/// The run configuration's "experiment" section: the seeds the run is repeated with.
struct ExperimentConfig {
#define FINFUSE_EXPERIMENT_FIELDS(F)                                                                          \
  F(std::vector<std::uint64_t>, seeds, {}, ::finfuse::FieldRule().non_empty("must list at least one seed"), \
    "the seeds to train with, reported as mean +- std (absent: [runtime.seed])")
  FINFUSE_FIELDS(ExperimentConfig, FINFUSE_EXPERIMENT_FIELDS)
#undef FINFUSE_EXPERIMENT_FIELDS
};

/// The run configuration's "tracking" section: where experiment trackers get the run's curves.
struct TrackingConfig {
#define FINFUSE_TRACKING_FIELDS(F)                                                                                \
  F(std::string, tensorboard, "", ::finfuse::FieldRule(),                                                         \
    "TensorBoard event files go under this folder (relative: to the working directory, like --out), a sub-folder " \
    "per seed (and per walk-forward fold) with the HParams plugin's record of each run (empty: none)")
  FINFUSE_FIELDS(TrackingConfig, FINFUSE_TRACKING_FIELDS)
#undef FINFUSE_TRACKING_FIELDS
};

struct RunConfig {
  Config root;
  RuntimeOptions runtime;
  data::DataConfig data;
  Config model;
  TrainerOptions training;
  /// The optional "distributed" section (used when the process is one rank of a job).
  DistributedOptions distributed;
  ExperimentConfig experiment;
  /// The "tracking" section (its tensorboard folder becomes training.tensorboard).
  TrackingConfig tracking;
  /// experiment.seeds, or [runtime.seed].
  std::vector<std::uint64_t> seeds;
  /// The folder relative data paths are resolved against.
  std::filesystem::path base;

  /// Reads and validates every section (ConfigError at the JSON path; unknown keys are errors).
  static RunConfig load(const std::filesystem::path& path);
  /// The same for a document already in memory; relative data paths are resolved against `base`.
  static RunConfig from_config(Config root, const std::filesystem::path& base);
};

/// The input data files a data configuration reads (for manifests).
std::vector<std::filesystem::path> input_files(const data::DataConfig& data);

}  // namespace finfuse::training
