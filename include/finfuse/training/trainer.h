// The trainer: one loop for every finfuse model. Device resolved once; data, model and optimizer state moved
// consistently; the objective with optional adversarial training and L2 penalties (objective.h); a warm start from
// another run (warm_start.h); gradient accumulation, clipping, mixed precision on CUDA with dynamic loss scaling; validation
// metrics each epoch; early stopping and best-model tracking on any metric; atomic checkpoints from which a run
// resumes exactly (on CPU the loss curve of a resumed run equals the uninterrupted one); a guard that stops on a
// non-finite loss or gradient naming the step; callbacks.
//
// Data-parallel training plugs in at one point: gradients computed locally are handed to a GradientSync before
// clipping and the optimizer step; samplers are rank-aware, and only the main rank writes files.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/sampler.h"
#include "finfuse/evaluation/metric.h"
#include "finfuse/models/multimodal_model.h"
#include "finfuse/training/callback.h"
#include "finfuse/training/fine_tuning.h"
#include "finfuse/training/objective.h"
#include "finfuse/training/optimizer.h"
#include "finfuse/training/scheduler.h"
#include "finfuse/training/warm_start.h"

#include <c10/core/Device.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::training {

/// Raised when training cannot go on (a non-finite loss or gradient, a checkpoint that does not fit the run).
class TrainingError : public Error {
 public:
  using Error::Error;
};

struct TrainerOptions {
#define FINFUSE_TRAINER_FIELDS(F)                                                                                  \
  F(std::int64_t, epochs, 10, ::finfuse::Range::positive(), "passes over the training samples")                   \
  F(std::int64_t, batch_size, 32, ::finfuse::Range::positive(), "samples per micro-batch")                         \
  F(std::string, batching, "shuffled",                                                                             \
    ::finfuse::FieldRule::one_of({"shuffled", "sequential", "cross_sectional", "class_balanced"}),                 \
    "how batches are drawn: shuffled, in order, one decision day per batch, or classes equally often")            \
  F(std::int64_t, accumulation, 1, ::finfuse::Range::positive(), "micro-batches per optimisation step")            \
  F(double, clip_norm, 0.0, ::finfuse::Range::non_negative(), "gradient clipping by global norm (0: off)")         \
  F(double, clip_value, 0.0, ::finfuse::Range::non_negative(), "gradient clipping by value (0: off)")              \
  F(bool, amp, false, ::finfuse::FieldRule(),                                                                      \
    "mixed precision through LibTorch's autocast: float16 with dynamic loss scaling (CUDA), bfloat16 (CPU); "     \
    "evaluation and serving stay in float32")                                                                      \
  F(std::string, amp_dtype, "auto", ::finfuse::FieldRule::one_of({"auto", "float16", "bfloat16"}),                \
    "the lower precision: auto (float16 on CUDA, bfloat16 on the CPU), float16 or bfloat16")                       \
  F(::finfuse::Json, optimizer, (::finfuse::Json{{"type", "adamw"}, {"lr", 1e-3}}), ::finfuse::FieldRule(),       \
    "the optimizer's options (registry optimizer), with parameter groups")                                         \
  F(::finfuse::Json, scheduler, (::finfuse::Json{{"type", "constant"}}), ::finfuse::FieldRule(),                  \
    "the learning-rate schedule's options (registry scheduler)")                                                   \
  F(std::vector<::finfuse::Json>, metrics, {}, ::finfuse::FieldRule(),                                             \
    "metrics per head, names or options (empty: each head's task defaults)")                                       \
  F(std::string, monitor, "valid.loss", ::finfuse::FieldRule(),                                                    \
    "the value early stopping, best-model tracking and reduce_on_plateau watch")                                   \
  F(std::string, mode, "auto", ::finfuse::FieldRule::one_of({"auto", "min", "max"}),                               \
    "whether the monitored value should fall or rise (auto: from the metric's name)")                              \
  F(std::int64_t, patience, 0, ::finfuse::Range::non_negative(),                                                   \
    "epochs without improvement before stopping (0: never stop early)")                                            \
  F(double, min_delta, 0.0, ::finfuse::Range::non_negative(), "the least change that counts as an improvement")    \
  F(bool, restore_best, true, ::finfuse::FieldRule(), "reload the best epoch's weights at the end")                \
  F(std::string, out_dir, "", ::finfuse::FieldRule(), "where checkpoints, best.pt and the history go (empty: nowhere)") \
  F(std::int64_t, checkpoint_every_steps, 0, ::finfuse::Range::non_negative(),                                     \
    "also checkpoint every n optimisation steps (0: at epoch ends only)")                                          \
  F(std::int64_t, keep_checkpoints, 2, ::finfuse::Range::positive(), "checkpoints kept in out_dir")                \
  F(std::string, progress, "auto", ::finfuse::FieldRule::one_of({"auto", "bar", "log", "none"}),                   \
    "a bar on a terminal, log lines otherwise (auto), or as named")                                                \
  F(std::int64_t, log_every, 50, ::finfuse::Range::positive(), "optimisation steps between progress log lines")    \
  F(std::string, tensorboard, "", ::finfuse::FieldRule(),                                                          \
    "TensorBoard event files go to this folder: the step's loss, learning rates and samples/s every log_every "    \
    "steps, every epoch value (empty: none)")                                                                      \
  F(std::uint64_t, seed, 42, ::finfuse::FieldRule(), "seed of shuffling, dropout and initialisation")              \
  F(std::int64_t, prefetch, 2, ::finfuse::Range::non_negative(), "batches collated ahead by the loader's thread")  \
  F(std::vector<::finfuse::Json>, callbacks, {}, ::finfuse::FieldRule(),                                           \
    "further callbacks by registry name or options")                                                              \
  F(std::optional<AdversarialOptions>, adversarial, std::nullopt, {},                                             \
    "adversarial training: the loss at a representation perturbed along its loss gradient is added (null: off)")  \
  F(std::vector<L2Penalty>, l2, {}, {}, "L2 penalties on chosen parameters: [{\"params\": pattern(s), \"weight\": lambda}]") \
  F(std::optional<WarmStartOptions>, warm_start, std::nullopt, {},                                                \
    "start from another run's weights: a bundle, a checkpoint or best.pt (null: from the initialisation)")         \
  F(std::vector<FineTuningOptions>, fine_tuning, {}, {},                                                           \
    "pretrained parts: [{\"module\", \"lr\", \"layer_decay\", \"frozen_layers\", \"unfreeze_every\"}] (fine_tuning.h)")
  FINFUSE_OPTIONS(TrainerOptions, FINFUSE_TRAINER_FIELDS)
#undef FINFUSE_TRAINER_FIELDS

 public:
  /// The optimizer from its typed options: .optimizer(AdamWOptions().lr(2e-3)).
  template <typename Options, typename = decltype(Options::kind)>
  TrainerOptions& optimizer(const Options& options) {
    return optimizer(optimizer_json(options));
  }
  /// The learning-rate schedule from a typed one: .scheduler(CosineSchedule(CosineScheduleOptions().warmup_steps(100))).
  /// The trainer builds its own from the options (registered schedules only).
  TrainerOptions& scheduler(const Schedule& schedule) { return scheduler(schedule.options_json()); }
  /// The scheduler's and the metrics' options are valid (checked at their JSON paths).
  void validate(const Config& config) const;
  /// Whether larger values of the monitored quantity are better: `mode`, or with "auto" the metric's name.
  bool higher_is_better() const;
};

/// Receives the gradients computed on this process before they are clipped and applied (the distributed trainer
/// averages them across ranks here).
class GradientSync {
 public:
  virtual ~GradientSync() = default;
  virtual void synchronize(const std::vector<torch::Tensor>& parameters) = 0;
  /// Reduces a per-rank sum (loss totals, sample counts) to the global sum.
  virtual double sum(double value) { return value; }
  /// Whether `value` is true on any rank (stop decisions every rank must agree on).
  virtual bool any(bool value) { return value; }
  /// Overwrites `tensors` with the main rank's values (parameters at the start, buffers before an evaluation).
  virtual void broadcast(const std::vector<torch::Tensor>& tensors) { (void)tensors; }
  virtual std::int64_t rank() const { return 0; }
  virtual std::int64_t world_size() const { return 1; }
};

struct Evaluation {
  /// "loss", "<head>.loss" and each head's metric values ("accuracy", or "<head>.accuracy" with several heads).
  std::map<std::string, double> values;
  /// Metric details (confusion matrices, backtest per day) keyed like the values.
  Json details = Json::object();
  /// Per head, when asked for.
  std::map<std::string, evaluation::PredictionRows> predictions;
  std::int64_t samples = 0;
  double samples_per_second = 0.0;
};

struct FitResult {
  std::vector<EpochRecord> history;
  std::string monitor;
  std::int64_t best_epoch = -1;
  double best_value = 0.0;
  bool stopped_early = false;
  std::string stop_reason;
  double seconds = 0.0;
  /// Every optimisation step's training loss, in order (including the steps before a resume).
  std::vector<double> step_losses;
  /// The signal that stopped the run (SIGTERM, SIGINT; training/stop_signal.h), 0 if none.
  int signal = 0;
};

/// Where a run stands; saved in checkpoints.
struct TrainingState {
  std::int64_t epoch = 0;
  /// Micro-batches done in the current epoch (the loader resumes after them).
  std::int64_t batch = 0;
  std::int64_t batches_in_epoch = 0;
  std::int64_t step = 0;
  std::int64_t samples = 0;
  double last_loss = 0.0;
  // Running sums of the current epoch.
  double epoch_loss_sum = 0.0;
  std::int64_t epoch_samples = 0;
  std::map<std::string, double> epoch_head_loss_sums;
  /// The objective's further terms ("adversarial_loss", "l2_penalty"), summed over the epoch's samples.
  std::map<std::string, double> epoch_term_sums;
  double epoch_seconds = 0.0;
  std::vector<EpochRecord> history;
  std::vector<double> step_losses;
  std::int64_t best_epoch = -1;
  double best_value = 0.0;
  bool stop = false;
  std::string stop_reason;
  /// Dynamic loss scaling (float16 mixed precision): the scale and the finite steps since it last changed.
  double loss_scale = 65536.0;
  std::int64_t good_steps = 0;
};

class Trainer {
 public:
  /// Trains `model` on the dataset's `train` samples and validates on `valid` (may be empty) on `device`.
  Trainer(const TrainerOptions& options, models::MultimodalModel model,
          std::shared_ptr<const data::MultimodalDataset> dataset, std::vector<std::size_t> train,
          std::vector<std::size_t> valid, c10::Device device = c10::Device(c10::DeviceType::CPU));
  ~Trainer();

  /// Runs (or continues, after resume()) until the last epoch, an early stop or request_stop().
  FitResult fit();
  /// Loss and metrics of every head on `indices` (no gradients, eval mode).
  Evaluation evaluate(const std::vector<std::size_t>& indices, bool keep_predictions = false);

  /// Writes a checkpoint now (main rank only; atomically) and returns its path.
  std::filesystem::path save_checkpoint();
  /// Restores the newest complete checkpoint in `path` (a checkpoint file, or a folder of them; damaged ones are
  /// reported and skipped). Returns false when there is none.
  bool resume(const std::filesystem::path& path);
  /// The newest complete checkpoint in a folder, if any.
  static std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& dir);

  void add_callback(std::shared_ptr<Callback> callback);
  /// Ends fit() after the current step (a checkpoint is written first when there is an out_dir).
  void request_stop(std::string reason);
  void set_gradient_sync(std::shared_ptr<GradientSync> sync);
  bool is_main() const;
  /// Whether a gradient sync with more than one rank is set.
  bool distributed() const;

  const TrainerOptions& options() const { return options_; }
  const TrainingState& state() const { return state_; }
  models::MultimodalModel& model() { return model_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  LrScheduler& scheduler() { return *scheduler_; }
  const c10::Device& device() const { return device_; }
  /// Whether larger values of the monitored quantity are better.
  bool monitor_higher_is_better() const { return higher_better_; }
  /// Records a new best value of the monitored quantity (the early-stopping and checkpoint callbacks use it).
  bool improves(double value) const;

 private:
  bool train_step(const data::Batch& batch, bool last_of_epoch);
  void apply_gradients();
  /// Every rank stops when one does.
  void agree_on_stop();
  /// resume() from one checkpoint file; foreign exceptions are turned into IoError by the caller.
  void load_checkpoint(const std::filesystem::path& file);
  EpochRecord finish_epoch();
  /// Records the epoch and resets the per-epoch sums.
  void close_epoch(const EpochRecord& record);
  std::shared_ptr<const data::BatchSampler> make_sampler() const;
  std::vector<std::string> metric_prefixes() const;
  void save_best_weights();
  void capture_weights();

  TrainerOptions options_;
  models::MultimodalModel model_;
  std::shared_ptr<const data::MultimodalDataset> dataset_;
  std::vector<std::size_t> train_;
  std::vector<std::size_t> valid_;
  c10::Device device_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<LrScheduler> scheduler_;
  std::unique_ptr<TrainingObjective> objective_;
  std::unique_ptr<FineTuning> fine_tuning_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  std::shared_ptr<GradientSync> sync_;
  std::vector<torch::Tensor> parameters_;
  TrainingState state_;
  bool higher_better_ = false;
  bool amp_ = false;
  c10::ScalarType amp_dtype_ = c10::ScalarType::Float;
  bool loss_scaling_ = false;
  std::int64_t pending_micro_batches_ = 0;
  double pending_loss_sum_ = 0.0;
  std::int64_t pending_samples_ = 0;
  std::map<std::string, torch::Tensor> best_weights_;
};

/// The training labels' class counts (for "balanced" class weights): counts of each class index among the `train`
/// samples' targets; empty when the targets are not class indices.
nn::LossContext label_context(const data::MultimodalDataset& dataset, const std::vector<std::size_t>& train);

}  // namespace finfuse::training
