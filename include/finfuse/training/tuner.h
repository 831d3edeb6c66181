// Hyper-parameter search over any keys of a run configuration, addressed by JSON pointer:
//
//   {"search": "sobol", "trials": 24, "seed": 1,
//    "parameters": {"/training/optimizer/lr": {"low": 1e-4, "high": 1e-2, "scale": "log"},
//                   "/model/encoders/price/hidden": {"values": [8, 16, 32]},
//                   "/model/fusion/dropout": {"low": 0.0, "high": 0.3}},
//    "halving": {"min_epochs": 2, "reduction": 3},
//    "final_seeds": [1, 2, 3, 4, 5]}
//
// Trials are drawn on a grid (every combination; "grid_points" values of each range), at random, or from a Sobol
// sequence (LibTorch's SobolEngine, unscrambled: quasi-random points that cover the space evenly). Successive halving
// (ASHA's rungs, run in order on one machine): every trial trains to min_epochs, the best 1/reduction go on to
// min_epochs x reduction, and so on up to the configuration's epochs; a promoted trial resumes from its checkpoint.
// A trial is scored by the best value of the trainer's monitor (a validation metric) reached so far: trials train on
// the training part and are scored on the validation part only; the test part is never scored by a trial. The best
// trial's configuration is then trained with final_seeds and scored on the test part once (an Experiment).
//
// Every trial's progress is written atomically to <out>/tune.json after each rung step, so a crashed search
// continues where it stopped when run again with the same configuration and search (a different one in the same
// folder is refused); <out>/report.html lists every trial.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::training {

struct HalvingOptions {
#define FINFUSE_HALVING_FIELDS(F)                                                                                   \
  F(std::int64_t, min_epochs, 0, ::finfuse::Range::non_negative(),                                                 \
    "epochs of the first rung (0: no halving, every trial trains the configuration's epochs)")                    \
  F(std::int64_t, reduction, 3, ::finfuse::Range::at_least(2), "1/reduction of a rung's trials go on to the next, " \
    "which trains reduction times as many epochs")
  FINFUSE_OPTIONS(HalvingOptions, FINFUSE_HALVING_FIELDS)
#undef FINFUSE_HALVING_FIELDS
};

struct TuneOptions {
#define FINFUSE_TUNE_FIELDS(F)                                                                                      \
  F(std::string, search, "random", ::finfuse::FieldRule::one_of({"grid", "random", "sobol"}),                      \
    "grid (every combination), random, or sobol (quasi-random)")                                                   \
  F(std::int64_t, trials, 16, ::finfuse::Range::closed(1, 100000), "random, sobol: how many trials")               \
  F(std::int64_t, grid_points, 3, ::finfuse::Range::closed(2, 1000), "grid: values of each range parameter")       \
  F(std::uint64_t, seed, 0, ::finfuse::FieldRule(), "random: the draws' seed")                                     \
  F(::finfuse::Json, parameters, ::finfuse::Json::object(), ::finfuse::FieldRule::required(),                      \
    "the search space: {\"<JSON pointer>\": {\"values\": [...]} or {\"low\", \"high\"[, \"scale\": "               \
    "\"linear\"|\"log\"][, \"integer\": true]}}")                                                                  \
  F(HalvingOptions, halving, {}, ::finfuse::FieldRule(), "successive halving of weak trials")                      \
  F(std::vector<std::uint64_t>, final_seeds, {}, ::finfuse::FieldRule(),                                           \
    "seeds the best configuration is trained and tested with (empty: the configuration's experiment.seeds)")
  FINFUSE_OPTIONS(TuneOptions, FINFUSE_TUNE_FIELDS)
#undef FINFUSE_TUNE_FIELDS

 public:
  /// Checks the parameters (ConfigError at their path).
  void validate(const Config& config) const;
};

/// One dimension of the search space.
struct SearchParameter {
  /// Where it goes in the run configuration (RFC 6901), e.g. "/training/optimizer/lr".
  std::string pointer;
  /// A choice among values, or a range [low, high] on a linear or log scale, rounded for integers.
  std::vector<Json> values;
  double low = 0.0;
  double high = 0.0;
  bool log = false;
  bool integer = false;

  bool is_choice() const { return !values.empty(); }
  /// The value at position u in [0, 1) of the dimension.
  Json at(double u) const;
  /// `points` evenly spaced values (ranges), or the values.
  std::vector<Json> grid(std::int64_t points) const;
};

/// The search space of a TuneOptions: its parameters in pointer order, and the trials it draws.
class SearchSpace {
 public:
  explicit SearchSpace(const TuneOptions& options);

  const std::vector<SearchParameter>& parameters() const { return parameters_; }
  /// Every trial's assignment ({pointer: value}), in order: the grid's combinations, or `trials` draws.
  std::vector<Json> assignments() const;
  /// `base` with each pointer of `assignment` set (ConfigError when a pointer's parent is neither an object nor an
  /// array, or names an array element that is not there).
  static Json apply(const Json& base, const Json& assignment);

 private:
  TuneOptions options_;
  std::vector<SearchParameter> parameters_;
};

/// A trial's progress: trained epochs and the best monitored validation value so far.
struct TrialProgress {
  std::int64_t epochs = 0;
  double value = 0.0;
  /// No further epochs to train (the configuration's epochs reached, or its early stopping ended the run).
  bool finished = false;
  /// The validation loss of the epoch that gave `value` (NaN: unknown). Trials whose values tie (e.g. several whose
  /// MCC is 0 because they predict one class) are ranked by it, lower first, then by their order in the search.
  double loss = std::numeric_limits<double>::quiet_NaN();
};

/// Trains a trial's configuration up to `epochs` epochs in `dir` (continuing from the checkpoint there, if any) and
/// reports its progress. The default trains a model on the training part and scores the validation part.
class TrialRunner {
 public:
  virtual ~TrialRunner() = default;
  virtual TrialProgress run(const Json& config, std::int64_t epochs, const std::filesystem::path& dir) = 0;
  /// The configuration's epochs (the last rung), the value it monitors and whether higher values are better.
  virtual std::int64_t max_epochs(const Json& config) const = 0;
  virtual std::string monitor(const Json& config) const = 0;
  virtual bool higher_is_better(const Json& config) const = 0;
};

/// The finfuse trainer as a TrialRunner: the configuration's data (cached in `cache_dir`, shared by trials whose data
/// sections agree), its model and its trainer, with the configuration's first seed. Only the training and the
/// validation parts reach the trainer.
std::shared_ptr<TrialRunner> training_trial_runner(std::filesystem::path base_dir, std::filesystem::path cache_dir);

struct TrialRecord {
  std::int64_t id = 0;
  Json assignment;
  /// The value reached at each rung, in rung order.
  std::vector<TrialProgress> rungs;
  /// "running", "stopped" (halving left it behind) or "finished".
  std::string status = "running";
  double seconds = 0.0;

  Json to_json() const;
  static TrialRecord from_json(const Json& json);
};

struct TuneResult {
  std::vector<TrialRecord> trials;
  /// The epochs of each rung.
  std::vector<std::int64_t> rungs;
  /// The best trial (the highest rung reached, then the best value there).
  std::int64_t best = -1;
  /// Its whole run configuration.
  Json best_config;
  std::string monitor;
  bool higher_is_better = true;
  /// Training time of the trials (seconds, summed over trials and rungs, this process and any before it).
  double seconds = 0.0;

  Json to_json() const;
};

/// The search of `options` over `base` (a run configuration) with `runner`; progress in out_dir/tune.json, each
/// trial's checkpoints in out_dir/trials/<id>. The final multi-seed run is the caller's (or `finfuse tune`'s).
TuneResult tune(const Json& base, const TuneOptions& options, const std::filesystem::path& out_dir,
                TrialRunner& runner);

/// An HTML page listing every trial (assignment, value per rung, status) and the best configuration.
std::string tune_report_html(const TuneResult& result, const TuneOptions& options, const std::string& title);

}  // namespace finfuse::training
