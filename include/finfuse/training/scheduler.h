// Learning-rate schedules. A schedule scales each parameter group's base learning rate by a factor that depends on
// the optimisation step or epoch (or, for reduce_on_plateau, on a validation metric), and its state is saved in
// checkpoints so a resumed run continues the same schedule.
//
//   constant
//   step          {step_size: epochs, gamma: 0.1}
//   multi_step    {milestones: [epochs...], gamma: 0.1}
//   exponential   {gamma}                              per epoch
//   cosine        {warmup_steps: 0, min_factor: 0}     per step: linear warm-up, then cosine to min_factor at the end
//   one_cycle     {pct_start: 0.3, div_factor: 25, final_div_factor: 1e4}   per step; peaks at the configured lr
//   reduce_on_plateau {factor: 0.1, patience: 10, threshold: 1e-4, cooldown: 0, min_factor: 0}  per epoch, on the
//                 monitored validation metric (its direction from the trainer)
//
// Each kind is a Schedule built from its options struct, in C++ or by the "scheduler" registry from configuration:
//
//   LrScheduler scheduler(std::make_unique<CosineSchedule>(CosineScheduleOptions().warmup_steps(100)), optimizer,
//                         total_steps);
//   LrScheduler same(Config::parse(R"({"type": "cosine", "warmup_steps": 100})"), optimizer, total_steps);
//
// A schedule of one's own derives from Schedule and is registered with scheduler_registry().add(name, factory).
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/core/registry.h"

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::training {

/// Where a run stands when a schedule is asked for its factor.
struct ScheduleProgress {
  /// Optimisation steps taken so far.
  std::int64_t steps = 0;
  /// Epochs completed so far.
  std::int64_t epochs = 0;
  /// Optimisation steps in the whole run (at least 1).
  std::int64_t total_steps = 1;
};

/// A learning-rate schedule: the factor of every group's base learning rate at a point of the run.
class Schedule {
 public:
  virtual ~Schedule() = default;
  /// The factor at `progress` (1 leaves the configured learning rates as they are).
  virtual double factor(const ScheduleProgress& progress) const = 0;
  /// After each epoch, with the monitored validation metric (NaN when there is none) and whether higher is better.
  /// Schedules that follow a metric update their state here.
  virtual void observe(double /*metric*/, bool /*higher_is_better*/) {}
  /// The schedule's own state beyond the progress (saved in checkpoints), as an object.
  virtual Json state() const { return Json::object(); }
  virtual void load_state(const Json& /*state*/) {}
  /// The options, with "type" set to the registered name, as the registry reads them back.
  virtual Json options_json() const = 0;
};

/// The factor stays 1.
class ConstantSchedule : public Schedule {
 public:
  double factor(const ScheduleProgress&) const override { return 1.0; }
  Json options_json() const override { return Json{{"type", "constant"}}; }
};

struct StepScheduleOptions {
#define FINFUSE_STEP_SCHEDULE_FIELDS(F)                                                                     \
  F(std::int64_t, step_size, 1, ::finfuse::FieldRule::required(::finfuse::Range::positive()),             \
    "epochs between two cuts")                                                                             \
  F(double, gamma, 0.1, ::finfuse::Range::positive(), "the factor each cut multiplies by")
  FINFUSE_OPTIONS(StepScheduleOptions, FINFUSE_STEP_SCHEDULE_FIELDS)
#undef FINFUSE_STEP_SCHEDULE_FIELDS
};

/// gamma ^ floor(epochs / step_size).
class StepSchedule : public Schedule {
 public:
  explicit StepSchedule(StepScheduleOptions options) : options_(std::move(options)) {}
  double factor(const ScheduleProgress& progress) const override;
  Json options_json() const override { return typed_json("step", options_.to_json()); }
  const StepScheduleOptions& options() const { return options_; }

 private:
  StepScheduleOptions options_;
};

struct MultiStepScheduleOptions {
#define FINFUSE_MULTI_STEP_SCHEDULE_FIELDS(F)                                                               \
  F(std::vector<std::int64_t>, milestones, {},                                                              \
    ::finfuse::FieldRule::required(::finfuse::Range::non_negative()).non_empty("must list at least one epoch"), \
    "epochs after which the factor is cut, in any order")                                                  \
  F(double, gamma, 0.1, ::finfuse::Range::positive(), "the factor each cut multiplies by")
  FINFUSE_OPTIONS(MultiStepScheduleOptions, FINFUSE_MULTI_STEP_SCHEDULE_FIELDS)
#undef FINFUSE_MULTI_STEP_SCHEDULE_FIELDS
};

/// gamma ^ (milestones reached).
class MultiStepSchedule : public Schedule {
 public:
  explicit MultiStepSchedule(MultiStepScheduleOptions options);
  double factor(const ScheduleProgress& progress) const override;
  Json options_json() const override { return typed_json("multi_step", options_.to_json()); }
  const MultiStepScheduleOptions& options() const { return options_; }

 private:
  MultiStepScheduleOptions options_;
};

struct ExponentialScheduleOptions {
#define FINFUSE_EXPONENTIAL_SCHEDULE_FIELDS(F) \
  F(double, gamma, 1.0, ::finfuse::FieldRule::required(::finfuse::Range::positive()), "the factor of each epoch")
  FINFUSE_OPTIONS(ExponentialScheduleOptions, FINFUSE_EXPONENTIAL_SCHEDULE_FIELDS)
#undef FINFUSE_EXPONENTIAL_SCHEDULE_FIELDS
};

/// gamma ^ epochs.
class ExponentialSchedule : public Schedule {
 public:
  explicit ExponentialSchedule(ExponentialScheduleOptions options) : options_(std::move(options)) {}
  double factor(const ScheduleProgress& progress) const override;
  Json options_json() const override { return typed_json("exponential", options_.to_json()); }
  const ExponentialScheduleOptions& options() const { return options_; }

 private:
  ExponentialScheduleOptions options_;
};

struct CosineScheduleOptions {
#define FINFUSE_COSINE_SCHEDULE_FIELDS(F)                                                                   \
  F(std::int64_t, warmup_steps, 0, ::finfuse::Range::non_negative(), "steps of linear warm-up")             \
  F(double, min_factor, 0.0, ::finfuse::Range::closed(0, 1), "the factor at the end of the run")
  FINFUSE_OPTIONS(CosineScheduleOptions, FINFUSE_COSINE_SCHEDULE_FIELDS)
#undef FINFUSE_COSINE_SCHEDULE_FIELDS
};

/// Per step: linear warm-up to 1, then half a cosine down to min_factor at the run's last step.
class CosineSchedule : public Schedule {
 public:
  explicit CosineSchedule(CosineScheduleOptions options = {}) : options_(std::move(options)) {}
  double factor(const ScheduleProgress& progress) const override;
  Json options_json() const override { return typed_json("cosine", options_.to_json()); }
  const CosineScheduleOptions& options() const { return options_; }

 private:
  CosineScheduleOptions options_;
};

struct OneCycleScheduleOptions {
#define FINFUSE_ONE_CYCLE_SCHEDULE_FIELDS(F)                                                                \
  F(double, pct_start, 0.3, ::finfuse::Range::closed(0, 1), "part of the run spent rising to the peak")     \
  F(double, div_factor, 25.0, ::finfuse::Range::positive(), "the starting rate is the peak / div_factor")   \
  F(double, final_div_factor, 1e4, ::finfuse::Range::positive(),                                           \
    "the final rate is the starting rate / final_div_factor")
  FINFUSE_OPTIONS(OneCycleScheduleOptions, FINFUSE_ONE_CYCLE_SCHEDULE_FIELDS)
#undef FINFUSE_ONE_CYCLE_SCHEDULE_FIELDS
};

/// Per step, as PyTorch's OneCycleLR with cosine annealing: up from lr / div_factor to the configured lr, then down
/// to lr / (div_factor x final_div_factor).
class OneCycleSchedule : public Schedule {
 public:
  explicit OneCycleSchedule(OneCycleScheduleOptions options = {}) : options_(std::move(options)) {}
  double factor(const ScheduleProgress& progress) const override;
  Json options_json() const override { return typed_json("one_cycle", options_.to_json()); }
  const OneCycleScheduleOptions& options() const { return options_; }

 private:
  OneCycleScheduleOptions options_;
};

struct ReduceOnPlateauScheduleOptions {
#define FINFUSE_REDUCE_ON_PLATEAU_SCHEDULE_FIELDS(F)                                                        \
  F(double, factor, 0.1, ::finfuse::Range::half_open(0, 1), "the factor each cut multiplies by")            \
  F(std::int64_t, patience, 10, ::finfuse::Range::non_negative(),                                          \
    "epochs without improvement tolerated before a cut")                                                   \
  F(double, threshold, 1e-4, ::finfuse::Range::non_negative(),                                             \
    "relative change that counts as an improvement")                                                       \
  F(std::int64_t, cooldown, 0, ::finfuse::Range::non_negative(), "epochs after a cut before counting again") \
  F(double, min_factor, 0.0, ::finfuse::Range::closed(0, 1), "the factor is never cut below this")
  FINFUSE_OPTIONS(ReduceOnPlateauScheduleOptions, FINFUSE_REDUCE_ON_PLATEAU_SCHEDULE_FIELDS)
#undef FINFUSE_REDUCE_ON_PLATEAU_SCHEDULE_FIELDS
};

/// Per epoch, on the monitored validation metric, as PyTorch's ReduceLROnPlateau in relative-threshold mode.
class ReduceOnPlateauSchedule : public Schedule {
 public:
  explicit ReduceOnPlateauSchedule(ReduceOnPlateauScheduleOptions options = {}) : options_(std::move(options)) {}
  double factor(const ScheduleProgress&) const override { return factor_; }
  void observe(double metric, bool higher_is_better) override;
  Json state() const override;
  void load_state(const Json& state) override;
  Json options_json() const override { return typed_json("reduce_on_plateau", options_.to_json()); }
  const ReduceOnPlateauScheduleOptions& options() const { return options_; }

 private:
  ReduceOnPlateauScheduleOptions options_;
  double factor_ = 1.0;
  double best_ = 0.0;
  bool has_best_ = false;
  std::int64_t bad_epochs_ = 0;
  std::int64_t cooldown_left_ = 0;
};

/// Builds a schedule from its options (the object with "type"); unknown keys are errors at their JSON path.
using ScheduleRegistry = Registry<std::unique_ptr<Schedule>(const Config& options)>;

ScheduleRegistry& scheduler_registry();

/// The schedule named by options["type"] ("constant" when absent).
std::unique_ptr<Schedule> make_schedule(const Config& options);

/// Applies a schedule to an optimizer: records each group's base learning rate and sets base x factor after every
/// step and epoch.
class LrScheduler {
 public:
  /// `total_steps`: optimisation steps in the whole run (for cosine and one_cycle).
  LrScheduler(std::unique_ptr<Schedule> schedule, torch::optim::Optimizer& optimizer, std::int64_t total_steps);
  /// The schedule from configuration (see make_schedule).
  LrScheduler(const Config& options, torch::optim::Optimizer& optimizer, std::int64_t total_steps);

  /// After each optimisation step.
  void step();
  /// After each epoch, with the monitored metric (NaN when there is none) and whether higher is better.
  void end_epoch(double metric, bool higher_is_better);

  double factor() const { return factor_; }
  /// The registered name of the schedule.
  std::string type() const;
  Json options_json() const { return schedule_->options_json(); }
  const Schedule& schedule() const { return *schedule_; }
  /// Progress, base learning rates and the schedule's own state.
  Json state() const;
  /// Restores state(); a state saved for another kind of schedule is an error.
  void load_state(const Json& state);

 private:
  void apply();

  std::unique_ptr<Schedule> schedule_;
  torch::optim::Optimizer* optimizer_;
  std::vector<double> base_lrs_;
  ScheduleProgress progress_;
  double factor_ = 1.0;
};

}  // namespace finfuse::training
