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
#pragma once

#include "finfuse/core/config.h"

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::training {

class LrScheduler {
 public:
  /// `total_steps`: optimisation steps in the whole run (for cosine and one_cycle).
  LrScheduler(const Config& options, torch::optim::Optimizer& optimizer, std::int64_t total_steps);

  /// After each optimisation step.
  void step();
  /// After each epoch, with the monitored metric (NaN when there is none) and whether higher is better.
  void end_epoch(double metric, bool higher_is_better);

  double factor() const { return factor_; }
  const std::string& type() const { return type_; }
  Json options_json() const { return options_; }
  Json state() const;
  void load_state(const Json& state);

 private:
  void apply();
  double scheduled_factor() const;

  std::string type_;
  Json options_;
  torch::optim::Optimizer* optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t total_steps_;
  std::int64_t steps_ = 0;
  std::int64_t epochs_ = 0;
  double factor_ = 1.0;
  // reduce_on_plateau
  double plateau_factor_ = 1.0;
  double best_ = 0.0;
  bool has_best_ = false;
  std::int64_t bad_epochs_ = 0;
  std::int64_t cooldown_left_ = 0;
};

}  // namespace finfuse::training
