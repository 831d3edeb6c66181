// Experiments: one run (a model trained on a pipeline's training part, selected on its validation part, scored on
// its test part), several seeds of it reported as mean +- std, walk-forward runs that train and test window by window,
// concatenate the out-of-sample predictions and score them as a whole and per window, and `Experiment`, the whole job
// of `finfuse train` as a library type:
//
//   auto run = finfuse::training::RunConfig::load("credit.json");
//   finfuse::apply_runtime(run.runtime);
//   const auto result = finfuse::training::Experiment(run, finfuse::training::ExperimentOptions("credit-run")).run();
//   std::cout << result.summary;  // credit-run/{bundle, metrics.json, report.html, test_predictions.csv}
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/evaluation/backtest.h"
#include "finfuse/evaluation/predictions.h"
#include "finfuse/training/run_config.h"
#include "finfuse/training/trainer.h"

#include <c10/core/Device.h>
#include <torch/arg.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
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

/// The trainer of one run: a fresh model built from `model_config` for the pipeline's dataset (seeded with `seed`),
/// to be trained with `options` (its seed replaced by `seed`) on the training part and validated on the validation
/// part. train_and_evaluate and `finfuse tune`'s trials start from it.
std::unique_ptr<Trainer> make_run_trainer(const Config& model_config, TrainerOptions options,
                                          const data::DataPipeline& pipeline, const c10::Device& device,
                                          std::uint64_t seed);

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
  /// "mean +- std" of one value (times `scale`), "-" when the runs do not have it.
  std::string mean_std(const std::string& key, double scale = 1.0) const;
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

/// The hyper-parameters of a run as TensorBoard's HParams shows them: the model configuration's and the trainer's
/// values (flattened to "model/encoders/text/hidden", "training/optimizer/lr", ...; where files go and how progress
/// is shown left out), the seed and, for a walk-forward window, its fold (from 1).
std::map<std::string, Json> run_hparams(const Config& model_config, const TrainerOptions& options, std::uint64_t seed,
                                        std::optional<std::int64_t> fold = std::nullopt);

/// One run per seed; with options.tensorboard(), each seed's curves go to its sub-folder "seed-<n>" with its
/// hyper-parameters and final values (HParams), and the folder gets the HParams experiment. `out_dir`, when given,
/// gets a folder per seed, "seed-<n>" (checkpoints, history), from which
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
/// With options.tensorboard(), each fold writes to its sub-folder "fold-<kkk>" (HParams session with "fold").
WalkForwardResult run_walk_forward(const Config& model_config, const TrainerOptions& options,
                                   const data::DataConfig& data, const c10::Device& device, std::uint64_t seed,
                                   const std::filesystem::path& cache_dir = {});

class DistributedContext;

/// A published result to put next to an experiment's own, in its report and summary.
struct PublishedResult {
  std::string name;
  /// Test values by metric name.
  std::map<std::string, double> test;
};

/// Where an Experiment writes and how it runs.
struct ExperimentOptions {
  /* implicit */ ExperimentOptions(std::filesystem::path out_dir = "finfuse-run") : out_dir_(std::move(out_dir)) {}

  /// The folder of the bundle, metrics.json, report.html and test_predictions.csv; runs/seed-<n> holds each seed's
  /// checkpoints and history.
  TORCH_ARG(std::filesystem::path, out_dir);
  /// Seeds to train (empty: the run configuration's experiment.seeds).
  TORCH_ARG(std::vector<std::uint64_t>, seeds) = {};
  /// Where the built dataset is cached (empty: out_dir/cache); experiments whose data sections agree may share one.
  TORCH_ARG(std::filesystem::path, cache_dir) = {};
  /// Continue each seed from its newest checkpoint under out_dir/runs.
  TORCH_ARG(bool, resume) = false;
  /// The report's title (empty: "finfuse run").
  TORCH_ARG(std::string, title) = "";
  /// Values tabulated as mean +- std over the seeds in the report and the summary (empty: every test value).
  TORCH_ARG(std::vector<std::string>, headline) = {};
  /// Published results shown next to this experiment's test figures.
  TORCH_ARG(std::vector<PublishedResult>, references) = {};
  /// The backtest behind the report's equity curves (where the predictions have forward returns).
  TORCH_ARG(evaluation::BacktestOptions, backtest) = {};
  /// The connected ranks of a distributed job: every rank trains, the main rank alone writes.
  TORCH_ARG(std::shared_ptr<DistributedContext>, distributed) = nullptr;
};

struct ExperimentResult {
  /// Every seed's figures and the best-validation run (the one in the bundle).
  MultiSeedResult seeds;
  /// The document written to metrics.json (and into the bundle): the bundle's seed's validation and test values,
  /// best epoch, monitor, history, the figures over seeds and the data summary.
  Json metrics = Json::object();
  /// The bundle's manifest.
  Json manifest = Json::object();
  /// Wall-clock seconds of the training (every seed, dataset build excluded).
  double seconds = 0.0;
  /// False on the other ranks of a distributed job: they train, and write nothing.
  bool written = false;
  std::filesystem::path bundle;
  std::filesystem::path report;
  std::filesystem::path metrics_file;
  /// test_predictions.csv (empty when the split has no test part).
  std::filesystem::path predictions;
  /// What a person reads at the end: time, best epoch, validation and test values, the headline over seeds, the
  /// published results and the paths written.
  std::string summary;
};

/// The whole job of a training run: builds the dataset (or loads it from the cache), trains the model of the run
/// configuration once per seed with early stopping and model selection on the validation part only, keeps the seed
/// with the best validation value of the monitor, and writes the bundle, metrics.json, report.html and the test
/// predictions. Process-wide settings (threads, logging, determinism) are the caller's: apply_runtime(run.runtime).
class Experiment {
 public:
  Experiment(RunConfig run, ExperimentOptions options);

  /// Runs on `device`.
  ExperimentResult run(const c10::Device& device) const;
  /// Runs on the device the run configuration names (runtime.device).
  ExperimentResult run() const;

  const RunConfig& config() const { return run_; }
  const ExperimentOptions& options() const { return options_; }

 private:
  RunConfig run_;
  ExperimentOptions options_;
};

struct WalkForwardExperimentResult {
  /// One walk-forward per seed, in the order of the seeds.
  std::vector<std::uint64_t> seeds;
  std::vector<WalkForwardResult> runs;
  /// The metrics of all out-of-sample predictions together, over the seeds.
  Aggregate overall;
  bool written = false;
  /// walk_forward.json, predictions.csv (the first seed's out-of-sample predictions) and report.html.
  std::filesystem::path results_file;
  std::filesystem::path predictions;
  std::filesystem::path report;
  /// The windows, the out-of-sample figures (over the seeds, with several) and the paths written.
  std::string summary;
};

/// The whole job of a walk-forward run (data.split.kind "walk_forward"): for every seed, each window's dataset is
/// fitted on that window's training part and a fresh model trained on it, selected on its validation part and tested
/// on the window that follows; the out-of-sample predictions of all windows are scored together. Writes
/// walk_forward.json, predictions.csv and report.html under out_dir (each seed's folds under folds/seed-<n>). One
/// process: a distributed context is refused.
class WalkForwardExperiment {
 public:
  WalkForwardExperiment(RunConfig run, ExperimentOptions options);

  WalkForwardExperimentResult run(const c10::Device& device) const;
  WalkForwardExperimentResult run() const;

  const RunConfig& config() const { return run_; }
  const ExperimentOptions& options() const { return options_; }

 private:
  RunConfig run_;
  ExperimentOptions options_;
};

}  // namespace finfuse::training
