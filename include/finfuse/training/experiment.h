// Experiments as operations: one run (a model trained on a pipeline's training part, selected on its validation part,
// scored on its test part), several seeds of it reported as mean +- std, and walk-forward runs that train and test
// window by window, concatenate the out-of-sample predictions and score them as a whole and per window.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/evaluation/predictions.h"
#include "finfuse/training/trainer.h"

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::training {

struct RunResult {
  std::uint64_t seed = 0;
  FitResult fit;
  Evaluation valid;
  Evaluation test;
  models::MultimodalModel model{nullptr};
};

/// Builds the model from `model_config` for the pipeline's dataset (seeded with `seed`), trains it with `options`
/// (its seed replaced by `seed`) and evaluates it on the validation and test parts (test predictions kept). With
/// `resume`, training continues from the newest checkpoint in options.out_dir when there is one.
/// With `sync`, training is one rank of a distributed job (only the main rank writes checkpoints).
RunResult train_and_evaluate(const Config& model_config, TrainerOptions options, const data::DataPipeline& pipeline,
                             const c10::Device& device, std::uint64_t seed, bool resume = false,
                             std::shared_ptr<GradientSync> sync = nullptr);

/// Mean, standard deviation (n - 1), min and max of each value over runs.
struct Aggregate {
  std::map<std::string, double> mean;
  std::map<std::string, double> std;
  std::map<std::string, double> min;
  std::map<std::string, double> max;
  std::int64_t runs = 0;

  static Aggregate of(const std::vector<std::map<std::string, double>>& runs);
  Json to_json() const;
  /// "value  mean +- std  [min, max]" per line.
  std::string table() const;
};

struct MultiSeedResult {
  std::vector<std::uint64_t> seeds;
  std::vector<std::map<std::string, double>> valid;
  std::vector<std::map<std::string, double>> test;
  std::vector<std::int64_t> best_epochs;
  Aggregate valid_summary;
  Aggregate test_summary;
  /// The run whose best validation value of the monitored quantity is the best (model selection on validation only).
  RunResult best;

  Json to_json() const;
};

/// One run per seed; `out_dir`, when given, gets a folder per seed, "seed-<n>" (checkpoints, history), from which
/// each seed resumes with `resume`.
MultiSeedResult run_seeds(const Config& model_config, const TrainerOptions& options, const data::DataPipeline& pipeline,
                          const c10::Device& device, const std::vector<std::uint64_t>& seeds, bool resume = false,
                          std::shared_ptr<GradientSync> sync = nullptr);

struct WalkForwardWindow {
  std::int64_t fold = 0;
  std::string train_start, train_end, test_start, test_end;
  std::int64_t train_samples = 0;
  std::int64_t test_samples = 0;
  std::map<std::string, double> valid;
  std::map<std::string, double> test;
};

struct WalkForwardResult {
  std::vector<WalkForwardWindow> windows;
  /// The first head's out-of-sample predictions of every window, in time order; entities index `entities`.
  evaluation::PredictionRows predictions;
  std::string head;
  std::vector<std::string> entities;
  /// Metrics of the concatenated predictions.
  std::map<std::string, double> overall;
  Json overall_details = Json::object();
  /// Per-window test values, aggregated.
  Aggregate per_window;

  Json to_json() const;
};

/// Walk-forward: `data` must split by "walk_forward"; each fold's dataset is fitted on that fold's training part,
/// a fresh model (seeded with `seed`) is trained and tested on the fold. `cache_dir` caches each fold's dataset.
WalkForwardResult run_walk_forward(const Config& model_config, const TrainerOptions& options,
                                   const data::DataConfig& data, const c10::Device& device, std::uint64_t seed,
                                   const std::filesystem::path& cache_dir = {});

}  // namespace finfuse::training
