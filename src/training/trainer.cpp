// The trainer's loop: batches, steps (accumulation, clipping, mixed precision, gradient sync), evaluation, early
// stopping and best-model tracking. Callbacks are in callbacks.cpp, checkpoints in checkpoint.cpp.
#include "finfuse/training/trainer.h"

#include "mixed_precision.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"
#include "finfuse/core/thread_budget.h"
#include "finfuse/data/loader.h"
#include "finfuse/evaluation/efficiency.h"
#include "finfuse/training/optimizer.h"
#include "finfuse/training/stop_signal.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace finfuse::training {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// ------------------------------------------------------------------------------------------------------- options

void TrainerOptions::validate(const Config& config) const {
  if (const auto scheduler = config.find_child("scheduler")) {
    make_schedule(*scheduler);
  }
  if (const auto metrics = config.find_child("metrics")) {
    for (std::size_t i = 0; i < metrics->size(); ++i) {
      evaluation::make_metric((*metrics)[i]);
    }
  }
}

bool TrainerOptions::higher_is_better() const {
  return mode() == "auto" ? evaluation::higher_is_better(monitor()) : mode() == "max";
}

// ------------------------------------------------------------------------------------------------------- trainer

Trainer::Trainer(const TrainerOptions& options, models::MultimodalModel model,
                 std::shared_ptr<const data::MultimodalDataset> dataset, std::vector<std::size_t> train,
                 std::vector<std::size_t> valid, c10::Device device)
    : options_(options),
      model_(std::move(model)),
      dataset_(std::move(dataset)),
      train_(dataset_->usable_only(train)),
      valid_(dataset_->usable_only(valid)),
      device_(device) {
  FINFUSE_CHECK(!train_.empty(), "trainer: no usable training samples");
  if (model_->fusion().cross_sectional() && options_.batching() != "cross_sectional") {
    throw ConfigError("/batching", fmt::format("the fusion layer ({}) relates the samples of one decision day to each "
                                               "other and needs one decision day per batch: set \"batching\": "
                                               "\"cross_sectional\" (got \"{}\")",
                                               model_->fusion().options_json().value("type", std::string("?")),
                                               options_.batching()));
  }
  amp_ = options_.amp();
  if (amp_) {
    amp_dtype_ = amp_dtype_for(options_.amp_dtype(), device_);
    loss_scaling_ = amp_dtype_ == c10::ScalarType::Half;
    logger()->info("trainer: mixed precision on {}: autocast to {}{}", device_.str(), c10::toString(amp_dtype_),
                   loss_scaling_ ? " with dynamic loss scaling" : "");
  }
  model_->to(device_);
  if (options_.warm_start()) {
    // Before the optimizer sees the parameters; a resumed run's checkpoint overrides these weights afterwards.
    auto warm = *options_.warm_start();
    auto path = warm.path().string();
    for (auto at = path.find("{seed}"); at != std::string::npos; at = path.find("{seed}")) {
      path.replace(at, 6, std::to_string(options_.seed()));
    }
    warm.path(path);
    warm_start(*model_, warm);
  }
  objective_ = std::make_unique<TrainingObjective>(options_.adversarial(), options_.l2(), *model_);
  if (objective_->adversarial()) {
    logger()->info("trainer: adversarial training on the {} representation (epsilon {}, weight {})",
                   options_.adversarial()->target(), options_.adversarial()->epsilon(),
                   options_.adversarial()->weight());
  }
  training::NamedParameters named;
  for (const auto& p : model_->named_parameters()) {
    named.emplace_back(p.key(), p.value());
    if (p.value().requires_grad()) {
      parameters_.push_back(p.value());
    }
  }
  Json optimizer = options_.optimizer();
  if (!options_.fine_tuning().empty()) {
    fine_tuning_ = std::make_unique<FineTuning>(options_.fine_tuning(), *model_);
    optimizer = fine_tuning_->optimizer_options(optimizer);
  }
  optimizer_ = make_optimizer(Config(optimizer), named);
  if (fine_tuning_) {
    fine_tuning_->set_learning_rates(*optimizer_);
    logger()->info("trainer: learning rates of the optimizer's {} parameter groups: {}",
                   optimizer_->param_groups().size(), fmt::join(learning_rates(*optimizer_), ", "));
  }
  const auto batches = static_cast<std::int64_t>(make_sampler()->batches(0).size());
  const std::int64_t steps_per_epoch = (batches + options_.accumulation() - 1) / options_.accumulation();
  scheduler_ = std::make_unique<LrScheduler>(Config(options_.scheduler()), *optimizer_, steps_per_epoch * options_.epochs());
  higher_better_ = options_.higher_is_better();
  // The built-in callbacks the options ask for, from the registry (callbacks.cpp).
  const auto builtin = [&](const std::string& name, Json options) {
    callbacks_.push_back(callback_registry().create(name, Config(std::move(options))));
  };
  builtin("progress", Json{{"mode", options_.progress()}, {"every", options_.log_every()}});
  if (!options_.out_dir().empty()) {
    builtin("history", Json{{"dir", options_.out_dir()}});
    builtin("checkpoint", Json{{"every_steps", options_.checkpoint_every_steps()}});
  }
  if (!options_.tensorboard().empty()) {
    builtin("tensorboard", Json{{"dir", options_.tensorboard()}, {"every", options_.log_every()}});
  }
  if (options_.patience() > 0) {
    builtin("early_stopping", Json{{"patience", options_.patience()}, {"min_delta", options_.min_delta()}});
  }
  for (const auto& c : options_.callbacks()) {
    const Config config(c);
    const std::string type = config.json().is_string() ? config.as<std::string>() : config.get<std::string>("type");
    if (!callback_registry().contains(type)) {
      const auto known = callback_registry().names();
      throw ConfigError("/callbacks", fmt::format("unknown callback '{}'{}; registered: {}", type,
                                                  did_you_mean(type, known), quoted_list(known)));
    }
    Json options_json = config.json().is_string() ? Json::object() : config.json();
    options_json.erase("type");
    callbacks_.push_back(callback_registry().create(type, Config(options_json)));
  }
}

Trainer::~Trainer() = default;

void Trainer::add_callback(std::shared_ptr<Callback> callback) { callbacks_.push_back(std::move(callback)); }

void Trainer::request_stop(std::string reason) {
  state_.stop = true;
  state_.stop_reason = std::move(reason);
}

void Trainer::set_gradient_sync(std::shared_ptr<GradientSync> sync) { sync_ = std::move(sync); }

bool Trainer::is_main() const { return !sync_ || sync_->rank() == 0; }

bool Trainer::distributed() const { return sync_ && sync_->world_size() > 1; }

void Trainer::agree_on_stop() {
  // A rank that stops alone (a time limit, a signal) would leave the others waiting in the next all-reduce.
  if (!distributed()) {
    return;
  }
  const bool any = sync_->any(state_.stop);
  if (any && !state_.stop) {
    request_stop("another rank stopped the run");
  }
}

bool Trainer::improves(double value) const {
  if (!std::isfinite(value)) {
    return false;
  }
  if (state_.best_epoch < 0) {
    return true;
  }
  return higher_better_ ? value > state_.best_value + options_.min_delta() : value < state_.best_value - options_.min_delta();
}

std::shared_ptr<const data::BatchSampler> Trainer::make_sampler() const {
  std::shared_ptr<const data::BatchSampler> sampler;
  const std::uint64_t seed = options_.seed();
  if (options_.batching() == "sequential") {
    sampler = std::make_shared<data::SequentialSampler>(train_, options_.batch_size());
  } else if (options_.batching() == "cross_sectional") {
    sampler = std::make_shared<data::CrossSectionalSampler>(dataset_->samples(), train_, true, seed);
  } else if (options_.batching() == "class_balanced") {
    sampler = std::make_shared<data::ClassBalancedSampler>(dataset_->samples(), train_, options_.batch_size(), seed);
  } else {
    sampler = std::make_shared<data::ShuffledSampler>(train_, options_.batch_size(), seed);
  }
  if (sync_ && sync_->world_size() > 1) {
    sampler = std::make_shared<data::DistributedSampler>(sampler, sync_->rank(), sync_->world_size());
  }
  return sampler;
}

std::vector<std::string> Trainer::metric_prefixes() const {
  const auto heads = model_->head_names();
  std::vector<std::string> out;
  for (const auto& h : heads) {
    out.push_back(heads.size() > 1 ? h + "." : std::string());
  }
  return out;
}

FitResult Trainer::fit() {
  const auto start = Clock::now();
  state_.stop = false;
  state_.stop_reason.clear();
  for (auto& c : callbacks_) {
    c->on_train_begin(*this);
  }
  if (distributed()) {
    // Every rank starts from the main rank's weights (and, resumed, from its own copy of the same checkpoint).
    std::vector<torch::Tensor> state = model_->parameters();
    const auto buffers = model_->buffers();
    state.insert(state.end(), buffers.begin(), buffers.end());
    sync_->broadcast(state);
  }
  data::DataLoader loader(dataset_, make_sampler(), options_.prefetch(), device_);
  // SIGTERM or SIGINT under a StopOnSignal: stop at the next step boundary (a checkpoint is written below).
  const auto check_signal = [this] {
    if (const int signal = stop_signal(); signal != 0 && !state_.stop) {
      request_stop(fmt::format("stopped by {} at epoch {}, step {}", signal_name(signal), state_.epoch + 1,
                               state_.step));
    }
  };
  while (state_.epoch < options_.epochs() && !state_.stop) {
    check_signal();
    agree_on_stop();
    if (state_.stop) {
      break;  // at an epoch boundary: the epoch's checkpoint is there
    }
    if (fine_tuning_) {
      const auto change = fine_tuning_->apply(state_.epoch);
      if (!change.empty() && is_main()) {
        logger()->info("trainer: epoch {}: {}", state_.epoch + 1, change);
      }
    }
    for (auto& c : callbacks_) {
      c->on_epoch_begin(*this);
    }
    const auto epoch_start = Clock::now();
    loader.start_epoch(state_.epoch, state_.batch);
    state_.batches_in_epoch = loader.batches_in_epoch();
    while (auto batch = loader.next()) {
      process_thread_budget().apply();
      for (auto& c : callbacks_) {
        c->on_batch_begin(*this);
      }
      train_step(*batch, state_.batch + 1 == state_.batches_in_epoch);
      ++state_.batch;
      if (pending_micro_batches_ == 0) {
        for (auto& c : callbacks_) {
          c->on_step_end(*this);
        }
        check_signal();
        agree_on_stop();
        if (state_.stop) {
          break;
        }
      }
    }
    state_.epoch_seconds += seconds_since(epoch_start);
    if (state_.stop && state_.batch < state_.batches_in_epoch) {
      if (!options_.out_dir().empty()) {
        save_checkpoint();
      }
      break;
    }
    const auto record = finish_epoch();
    for (auto& c : callbacks_) {
      c->on_epoch_end(*this, record);
    }
    agree_on_stop();
  }
  for (auto& c : callbacks_) {
    c->on_train_end(*this);
  }
  // A run that ended at an epoch boundary (finished, or stopped early) hands back its best epoch's weights; one
  // interrupted inside an epoch keeps its current state, to be resumed.
  if (options_.restore_best() && !best_weights_.empty() && state_.batch == 0) {
    torch::NoGradGuard no_grad;
    for (auto& p : model_->named_parameters()) {
      p.value().copy_(best_weights_.at(p.key()));
    }
    for (auto& b : model_->named_buffers()) {
      b.value().copy_(best_weights_.at(b.key()));
    }
    logger()->info("trainer: restored the weights of epoch {} ({} {:.6g})", state_.best_epoch + 1, options_.monitor(),
                   state_.best_value);
  }
  if (!state_.stop_reason.empty()) {
    logger()->info("trainer: {}", state_.stop_reason);
  }
  FitResult result;
  result.history = state_.history;
  result.monitor = options_.monitor();
  result.best_epoch = state_.best_epoch;
  result.best_value = state_.best_value;
  result.stopped_early = state_.stop;
  result.stop_reason = state_.stop_reason;
  result.seconds = seconds_since(start);
  result.step_losses = state_.step_losses;
  result.signal = state_.stop ? stop_signal() : 0;
  return result;
}

bool Trainer::train_step(const data::Batch& batch, bool last_of_epoch) {
  model_->train();
  const auto b = batch.to(device_);
  ObjectiveTerms terms;
  {
    std::optional<AutocastScope> autocast;
    if (amp_) {
      autocast.emplace(device_.type(), amp_dtype_);
    }
    terms = (*objective_)(*model_, b);
  }
  const auto& losses = terms.clean;
  const double value = losses.total.item<double>();
  const double objective = terms.total.item<double>();
  if (!std::isfinite(value) || !std::isfinite(objective)) {
    const auto last = options_.out_dir().empty() ? std::nullopt : latest_checkpoint(options_.out_dir());
    throw TrainingError(fmt::format(
        "training {} is {} at epoch {}, step {} (batch {} of {}); stopped before updating the model{}",
        std::isfinite(value) ? "objective" : "loss", std::isfinite(value) ? objective : value,
        state_.epoch + 1, state_.step + 1, state_.batch + 1, state_.batches_in_epoch,
        last ? fmt::format("; the last good checkpoint is {}", last->string()) : std::string()));
  }
  // Each micro-batch contributes in proportion to its samples; apply_gradients() divides by the window's total, so
  // a step averages over every sample of its window whatever the micro-batch sizes.
  const auto n = b.size();
  const double nominal = static_cast<double>(options_.batch_size() * options_.accumulation());
  auto scaled = terms.total * (static_cast<double>(n) / nominal);
  if (loss_scaling_) {
    scaled = scaled * state_.loss_scale;
  }
  scaled.backward();
  pending_samples_ += n;
  state_.epoch_loss_sum += value * static_cast<double>(n);
  state_.epoch_samples += n;
  state_.samples += n;
  for (const auto& [head, loss] : losses.heads) {
    state_.epoch_head_loss_sums[head] += loss.item<double>() * static_cast<double>(n);
  }
  if (terms.adversarial.defined()) {
    state_.epoch_term_sums["adversarial_loss"] += terms.adversarial.item<double>() * static_cast<double>(n);
  }
  if (terms.penalty.defined()) {
    state_.epoch_term_sums["l2_penalty"] += terms.penalty.item<double>() * static_cast<double>(n);
  }
  pending_loss_sum_ += value;
  ++pending_micro_batches_;
  if (pending_micro_batches_ == options_.accumulation() || last_of_epoch) {
    apply_gradients();
  }
  return true;
}

void Trainer::apply_gradients() {
  const auto micro_batches = pending_micro_batches_;
  const double mean_loss = pending_loss_sum_ / static_cast<double>(std::max<std::int64_t>(micro_batches, 1));
  const double factor = static_cast<double>(options_.batch_size() * options_.accumulation()) /
                        static_cast<double>(std::max<std::int64_t>(pending_samples_, 1));
  pending_micro_batches_ = 0;
  pending_loss_sum_ = 0.0;
  pending_samples_ = 0;
  if (factor != 1.0) {
    for (auto& p : parameters_) {
      if (p.grad().defined()) {
        p.grad().mul_(factor);
      }
    }
  }
  if (sync_) {
    sync_->synchronize(parameters_);
  }
  if (loss_scaling_) {
    // Gradients of every rank are summed by now, so an overflow on one is seen by all and they skip together.
    std::vector<torch::Tensor> gradients;
    for (const auto& p : parameters_) {
      gradients.push_back(p.grad());
    }
    GradScaler scaler(state_.loss_scale, state_.good_steps);
    const bool finite = scaler.unscale(gradients);
    scaler.update(!finite);
    state_.loss_scale = scaler.scale();
    state_.good_steps = scaler.growth_tracker();
    if (!finite) {
      optimizer_->zero_grad();
      logger()->debug("trainer: gradient overflow; step skipped, loss scale now {}", state_.loss_scale);
      return;
    }
  }
  std::vector<torch::Tensor> norms;
  for (auto& p : parameters_) {
    if (p.grad().defined()) {
      norms.push_back(p.grad().detach().norm(2).to(torch::kFloat64));
    }
  }
  const double total_norm = norms.empty() ? 0.0 : torch::stack(norms).norm(2).item<double>();
  if (!std::isfinite(total_norm)) {
    optimizer_->zero_grad();
    const auto last = options_.out_dir().empty() ? std::nullopt : latest_checkpoint(options_.out_dir());
    throw TrainingError(fmt::format(
        "gradients are not finite (norm {}) at epoch {}, step {} (batch {} of {}); stopped before updating the "
        "model{}",
        total_norm, state_.epoch + 1, state_.step + 1, state_.batch + 1, state_.batches_in_epoch,
        last ? fmt::format("; the last good checkpoint is {}", last->string()) : std::string()));
  }
  if (options_.clip_value() > 0.0) {
    for (auto& p : parameters_) {
      if (p.grad().defined()) {
        p.grad().clamp_(-options_.clip_value(), options_.clip_value());
      }
    }
  }
  if (options_.clip_norm() > 0.0) {
    torch::nn::utils::clip_grad_norm_(parameters_, options_.clip_norm());
  }
  optimizer_->step();
  optimizer_->zero_grad();
  scheduler_->step();
  ++state_.step;
  state_.last_loss = mean_loss;
  state_.step_losses.push_back(mean_loss);
}

Evaluation Trainer::evaluate(const std::vector<std::size_t>& indices_in, bool keep_predictions) {
  const auto indices = dataset_->usable_only(indices_in);
  Evaluation result;
  if (indices.empty()) {
    return result;
  }
  const bool was_training = model_->is_training();
  model_->eval();
  torch::NoGradGuard no_grad;
  const auto start = Clock::now();
  std::shared_ptr<const data::BatchSampler> sampler;
  if (options_.batching() == "cross_sectional") {
    sampler = std::make_shared<data::CrossSectionalSampler>(dataset_->samples(), indices, false, options_.seed(), 1);
  } else {
    sampler = std::make_shared<data::SequentialSampler>(indices, options_.batch_size());
  }
  const auto heads = model_->head_names();
  const auto prefixes = metric_prefixes();
  std::vector<evaluation::MetricSet> sets;
  for (const auto& h : heads) {
    const auto& head = model_->head(h);
    const std::int64_t classes = head.classes();
    if (options_.metrics().empty()) {
      sets.emplace_back(evaluation::default_metrics(head.task()), classes);
    } else {
      std::vector<Config> configs;
      for (const auto& m : options_.metrics()) {
        configs.emplace_back(m);
      }
      sets.emplace_back(configs, classes);
    }
  }
  double loss_sum = 0.0;
  std::map<std::string, double> head_sums;
  data::DataLoader loader(dataset_, sampler, options_.prefetch(), device_);
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    process_thread_budget().apply();
    const auto b = batch->to(device_);
    const auto out = model_->forward(b);
    const auto losses = model_->loss(out, b);
    const auto n = static_cast<double>(b.size());
    loss_sum += losses.total.item<double>() * n;
    for (std::size_t h = 0; h < heads.size(); ++h) {
      head_sums[heads[h]] += losses.heads.at(heads[h]).item<double>() * n;
      sets[h].update(out.predictions.at(heads[h]), model_->head(heads[h]).target(b), b);
    }
    result.samples += b.size();
  }
  const auto total = static_cast<double>(result.samples);
  result.values["loss"] = loss_sum / total;
  for (std::size_t h = 0; h < heads.size(); ++h) {
    if (heads.size() > 1) {
      result.values[heads[h] + ".loss"] = head_sums[heads[h]] / total;
    }
    std::vector<std::string> skipped;
    const auto metrics = sets[h].compute_available(skipped);
    for (const auto& s : skipped) {
      logger()->debug("evaluation: metric skipped: {}", s);
    }
    for (const auto& [k, v] : metrics.values) {
      result.values[prefixes[h] + k] = v;
    }
    for (const auto& [k, v] : metrics.details.items()) {
      result.details[prefixes[h] + k] = v;
    }
    if (keep_predictions) {
      result.predictions[heads[h]] = sets[h].rows();
    }
  }
  result.samples_per_second = total / std::max(1e-9, seconds_since(start));
  model_->train(was_training);
  return result;
}

EpochRecord Trainer::finish_epoch() {
  EpochRecord record;
  record.epoch = state_.epoch;
  const double samples = sync_ ? sync_->sum(static_cast<double>(state_.epoch_samples))
                               : static_cast<double>(state_.epoch_samples);
  const double loss_sum = sync_ ? sync_->sum(state_.epoch_loss_sum) : state_.epoch_loss_sum;
  record.values["train.loss"] = loss_sum / std::max(1.0, samples);
  if (state_.epoch_head_loss_sums.size() > 1) {
    for (const auto& [head, sum] : state_.epoch_head_loss_sums) {
      record.values["train." + head + ".loss"] = (sync_ ? sync_->sum(sum) : sum) / std::max(1.0, samples);
    }
  }
  for (const auto& [term, sum] : state_.epoch_term_sums) {
    record.values["train." + term] = (sync_ ? sync_->sum(sum) : sum) / std::max(1.0, samples);
  }
  record.values["samples_per_second"] = samples / std::max(1e-9, state_.epoch_seconds);
  record.values["seconds"] = state_.epoch_seconds;
  record.values["lr"] = learning_rates(*optimizer_).front();
  record.values["peak_memory_mb"] = static_cast<double>(evaluation::peak_memory_bytes()) / (1024.0 * 1024.0);
  if (device_.is_cuda()) {
    // GPU memory of this epoch: the peak held by tensors and what the caching allocator keeps reserved.
    record.values["gpu_peak_memory_mb"] =
        static_cast<double>(evaluation::device_peak_memory_bytes(device_)) / (1024.0 * 1024.0);
    record.values["gpu_reserved_memory_mb"] =
        static_cast<double>(evaluation::device_reserved_memory_bytes(device_)) / (1024.0 * 1024.0);
    evaluation::reset_device_peak_memory(device_);
  }
  if (distributed()) {
    sync_->broadcast(model_->buffers());  // normalisation statistics drift apart on different shards
  }
  if (!valid_.empty()) {
    const auto valid = evaluate(valid_);
    std::map<std::string, double> values;
    for (const auto& [k, v] : valid.values) {
      record.values["valid." + k] = v;
      values["valid." + k] = v;
    }
    for (auto& c : callbacks_) {
      c->on_validation(*this, values);
    }
  }
  const auto monitored = record.values.find(options_.monitor());
  if (monitored == record.values.end() && valid_.empty() && options_.monitor().rfind("valid.", 0) == 0) {
    // No validation data: nothing to monitor, track or stop on.
    scheduler_->end_epoch(std::nan(""), higher_better_);
    close_epoch(record);
    return record;
  }
  if (monitored == record.values.end()) {
    std::vector<std::string> known;
    for (const auto& [k, v] : record.values) {
      known.push_back(k);
    }
    throw ConfigError("/monitor", fmt::format("the run reports no '{}'{}; it reports {}", options_.monitor(),
                                              did_you_mean(options_.monitor(), known), quoted_list(known)));
  }
  scheduler_->end_epoch(monitored->second, higher_better_);
  if (improves(monitored->second)) {
    state_.best_epoch = state_.epoch;
    state_.best_value = monitored->second;
    save_best_weights();
  }
  close_epoch(record);
  return record;
}

void Trainer::close_epoch(const EpochRecord& record) {
  state_.history.push_back(record);
  ++state_.epoch;
  state_.batch = 0;
  state_.epoch_loss_sum = 0.0;
  state_.epoch_samples = 0;
  state_.epoch_head_loss_sums.clear();
  state_.epoch_term_sums.clear();
  state_.epoch_seconds = 0.0;
}

void Trainer::capture_weights() {
  torch::NoGradGuard no_grad;
  best_weights_.clear();
  for (const auto& p : model_->named_parameters()) {
    best_weights_[p.key()] = p.value().detach().clone();
  }
  for (const auto& b : model_->named_buffers()) {
    best_weights_[b.key()] = b.value().detach().clone();
  }
}

nn::LossContext label_context(const data::MultimodalDataset& dataset, const std::vector<std::size_t>& train) {
  nn::LossContext context;
  for (const auto i : train) {
    const float t = dataset.samples().target(i);
    const auto c = static_cast<std::int64_t>(t);
    if (static_cast<float>(c) != t || c < 0 || c > 1000) {
      return nn::LossContext{};
    }
    if (static_cast<std::size_t>(c) >= context.class_counts.size()) {
      context.class_counts.resize(static_cast<std::size_t>(c) + 1, 0.0);
    }
    context.class_counts[static_cast<std::size_t>(c)] += 1.0;
  }
  context.classes = static_cast<std::int64_t>(context.class_counts.size());
  return context;
}

}  // namespace finfuse::training
