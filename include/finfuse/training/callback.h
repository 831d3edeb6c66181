// Training callbacks (registry "callback"): code that runs at the trainer's events. Built-ins, added by the trainer
// from its options: "progress" (a bar on a terminal, log lines otherwise), "history" (history.jsonl and history.csv
// per epoch: losses, metrics, learning rate, samples/s), "checkpoint" (atomic checkpoints every epoch and every n
// steps, keeping the newest few, and best.pt for the best monitored value), "early_stopping" (stops after `patience`
// epochs without improvement of the monitored value). A callback's state is saved in checkpoints.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/registry.h"

#include <map>
#include <memory>
#include <string>

namespace finfuse::training {

class Trainer;

/// What one epoch produced: "train.loss", "train.<head>.loss", "valid.loss", "valid.<metric>" (or
/// "valid.<head>.<metric>" with several heads), "lr", "samples_per_second", "seconds".
struct EpochRecord {
  std::int64_t epoch = 0;
  std::map<std::string, double> values;

  Json to_json() const;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Trainer&) {}
  virtual void on_epoch_begin(Trainer&) {}
  /// Before each micro-batch's forward pass.
  virtual void on_batch_begin(Trainer&) {}
  /// After every optimisation step.
  virtual void on_step_end(Trainer&) {}
  /// After each validation pass, with its values ("valid.<metric>").
  virtual void on_validation(Trainer&, const std::map<std::string, double>&) {}
  /// At the end of each epoch, after validation.
  virtual void on_epoch_end(Trainer&, const EpochRecord&) {}
  virtual void on_train_end(Trainer&) {}
  /// State carried through checkpoints.
  virtual Json state() const { return Json::object(); }
  virtual void load_state(const Json&) {}
  virtual std::string name() const = 0;
};

using CallbackRegistry = Registry<std::shared_ptr<Callback>(const Config& options)>;

/// Built-ins: "progress", "history", "checkpoint", "early_stopping" (options as in TrainerOptions).
CallbackRegistry& callback_registry();

}  // namespace finfuse::training
