#include "finfuse/training/scheduler.h"

#include "finfuse/core/error.h"
#include "finfuse/core/suggest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace finfuse::training {
namespace {

constexpr double kPi = 3.14159265358979323846;

template <typename Kind, typename Options>
void add_builtin(ScheduleRegistry& registry, const std::string& name) {
  registry.add(name, [](const Config& options) -> std::unique_ptr<Schedule> {
    return std::make_unique<Kind>(Options::from_config(options));
  }, Options::fields());
}

void register_builtin_schedules(ScheduleRegistry& registry) {
  registry.add("constant", [](const Config& options) -> std::unique_ptr<Schedule> {
    options.reject_unknown_keys();
    return std::make_unique<ConstantSchedule>();
  }, {});
  add_builtin<StepSchedule, StepScheduleOptions>(registry, "step");
  add_builtin<MultiStepSchedule, MultiStepScheduleOptions>(registry, "multi_step");
  add_builtin<ExponentialSchedule, ExponentialScheduleOptions>(registry, "exponential");
  add_builtin<CosineSchedule, CosineScheduleOptions>(registry, "cosine");
  add_builtin<OneCycleSchedule, OneCycleScheduleOptions>(registry, "one_cycle");
  add_builtin<ReduceOnPlateauSchedule, ReduceOnPlateauScheduleOptions>(registry, "reduce_on_plateau");
}

}  // namespace

// ------------------------------------------------------------------------------------------------------- schedules

double StepSchedule::factor(const ScheduleProgress& progress) const {
  return std::pow(options_.gamma(), static_cast<double>(progress.epochs / options_.step_size()));
}

MultiStepSchedule::MultiStepSchedule(MultiStepScheduleOptions options) : options_(std::move(options)) {
  std::sort(options_.milestones().begin(), options_.milestones().end());
}

double MultiStepSchedule::factor(const ScheduleProgress& progress) const {
  double f = 1.0;
  for (const auto m : options_.milestones()) {
    if (progress.epochs >= m) {
      f *= options_.gamma();
    }
  }
  return f;
}

double ExponentialSchedule::factor(const ScheduleProgress& progress) const {
  return std::pow(options_.gamma(), static_cast<double>(progress.epochs));
}

double CosineSchedule::factor(const ScheduleProgress& progress) const {
  const auto t = static_cast<double>(progress.steps);
  const auto total = static_cast<double>(progress.total_steps);
  const auto warmup = static_cast<double>(options_.warmup_steps());
  const double floor = options_.min_factor();
  if (t < warmup) {
    return (t + 1.0) / (warmup + 1.0);
  }
  const double done = std::min(1.0, (t - warmup) / std::max(1.0, total - warmup));
  return floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(kPi * done));
}

double OneCycleSchedule::factor(const ScheduleProgress& progress) const {
  const auto t = static_cast<double>(progress.steps);
  const auto total = static_cast<double>(progress.total_steps);
  const double start = 1.0 / options_.div_factor();
  const double end = start / options_.final_div_factor();
  const double peak = std::max(1.0, options_.pct_start() * total) - 1.0;
  const auto anneal = [](double from, double to, double pct) {
    return to + (from - to) / 2.0 * (std::cos(kPi * pct) + 1.0);
  };
  if (t <= peak) {
    return anneal(start, 1.0, peak > 0 ? t / peak : 1.0);
  }
  return anneal(1.0, end, std::min(1.0, (t - peak) / std::max(1.0, total - 1.0 - peak)));
}

void ReduceOnPlateauSchedule::observe(double metric, bool higher_is_better) {
  if (!std::isfinite(metric)) {
    return;
  }
  const double threshold = options_.threshold();
  // Relative threshold, as PyTorch's default mode.
  const double up = best_ >= 0 ? threshold : -threshold;
  const bool better =
      !has_best_ || (higher_is_better ? metric > best_ * (1.0 + up) : metric < best_ * (1.0 - up));
  if (better) {
    best_ = metric;
    has_best_ = true;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;
  }
  if (bad_epochs_ > options_.patience()) {
    factor_ = std::max(options_.min_factor(), factor_ * options_.factor());
    cooldown_left_ = options_.cooldown();
    bad_epochs_ = 0;
  }
}

Json ReduceOnPlateauSchedule::state() const {
  return Json{{"plateau_factor", factor_},
              {"best", best_},
              {"has_best", has_best_},
              {"bad_epochs", bad_epochs_},
              {"cooldown_left", cooldown_left_}};
}

void ReduceOnPlateauSchedule::load_state(const Json& state) {
  factor_ = state.at("plateau_factor").get<double>();
  best_ = state.at("best").get<double>();
  has_best_ = state.at("has_best").get<bool>();
  bad_epochs_ = state.at("bad_epochs").get<std::int64_t>();
  cooldown_left_ = state.at("cooldown_left").get<std::int64_t>();
}

// -------------------------------------------------------------------------------------------------------- registry

ScheduleRegistry& scheduler_registry() {
  static ScheduleRegistry registry("scheduler", register_builtin_schedules);
  return registry;
}

std::unique_ptr<Schedule> make_schedule(const Config& options) {
  const std::string type = options.get<std::string>("type", "constant");
  if (!scheduler_registry().contains(type)) {
    const auto known = scheduler_registry().names();
    options.fail_at("type", fmt::format("unknown scheduler '{}'{}; registered: {}", type, did_you_mean(type, known),
                                        quoted_list(known)));
  }
  auto schedule = scheduler_registry().create(type, options);
  if (!schedule) {
    throw Error(fmt::format("scheduler '{}': its factory returned no schedule", type));
  }
  return schedule;
}

// ------------------------------------------------------------------------------------------------------- scheduler

LrScheduler::LrScheduler(std::unique_ptr<Schedule> schedule, torch::optim::Optimizer& optimizer,
                         std::int64_t total_steps)
    : schedule_(std::move(schedule)), optimizer_(&optimizer) {
  if (!schedule_) {
    throw Error("LrScheduler: no schedule given");
  }
  progress_.total_steps = std::max<std::int64_t>(total_steps, 1);
  for (const auto& group : optimizer.param_groups()) {
    base_lrs_.push_back(group.options().get_lr());
  }
  factor_ = schedule_->factor(progress_);
  apply();
}

LrScheduler::LrScheduler(const Config& options, torch::optim::Optimizer& optimizer, std::int64_t total_steps)
    : LrScheduler(make_schedule(options), optimizer, total_steps) {}

std::string LrScheduler::type() const { return schedule_->options_json().value("type", std::string("?")); }

void LrScheduler::apply() {
  auto& groups = optimizer_->param_groups();
  for (std::size_t g = 0; g < groups.size() && g < base_lrs_.size(); ++g) {
    groups[g].options().set_lr(base_lrs_[g] * factor_);
  }
}

void LrScheduler::step() {
  ++progress_.steps;
  factor_ = schedule_->factor(progress_);
  apply();
}

void LrScheduler::end_epoch(double metric, bool higher_is_better) {
  ++progress_.epochs;
  schedule_->observe(metric, higher_is_better);
  factor_ = schedule_->factor(progress_);
  apply();
}

Json LrScheduler::state() const {
  Json out = schedule_->state();
  out["type"] = type();
  out["steps"] = progress_.steps;
  out["epochs"] = progress_.epochs;
  out["base_lrs"] = base_lrs_;
  return out;
}

void LrScheduler::load_state(const Json& state) {
  const std::string saved = state.is_object() ? state.value("type", std::string("?")) : std::string("?");
  if (saved != type()) {
    throw Error(fmt::format("scheduler state is for '{}', this run schedules '{}'", saved, type()));
  }
  try {
    progress_.steps = state.at("steps").get<std::int64_t>();
    progress_.epochs = state.at("epochs").get<std::int64_t>();
    base_lrs_ = state.at("base_lrs").get<std::vector<double>>();
    schedule_->load_state(state);
  } catch (const Json::exception& e) {
    throw Error(fmt::format("scheduler state for '{}' is incomplete or malformed: {}", saved, e.what()));
  }
  factor_ = schedule_->factor(progress_);
  apply();
}

}  // namespace finfuse::training
