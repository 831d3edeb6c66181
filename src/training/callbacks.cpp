// The built-in callbacks (progress, history, checkpoint, early stopping, tensorboard) and the callback registry.
#include "finfuse/training/callback.h"

#include "finfuse/core/file.h"
#include "finfuse/core/options.h"
#include "finfuse/core/logging.h"
#include "finfuse/evaluation/metric.h"
#include "finfuse/training/progress.h"
#include "finfuse/training/tensorboard.h"
#include "finfuse/training/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <unistd.h>

namespace finfuse::training {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string format_values(const std::map<std::string, double>& values) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : values) {
    parts.push_back(fmt::format("{} {:.4g}", k, v));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

class ProgressCallback : public Callback {
 public:
  ProgressCallback(std::string mode, std::int64_t every) : every_(std::max<std::int64_t>(every, 1)) {
    bar_ = mode == "bar" || (mode == "auto" && ::isatty(::fileno(stderr)) != 0);
    quiet_ = mode == "none";
  }
  std::string name() const override { return "progress"; }
  void on_epoch_begin(Trainer&) override {
    start_ = Clock::now();
    samples_at_start_ = -1;
  }
  void on_step_end(Trainer& t) override {
    if (quiet_ || !t.is_main()) {
      return;
    }
    const auto& s = t.state();
    if (samples_at_start_ < 0) {  // the first step of the epoch (or of a resumed one): timing starts here
      samples_at_start_ = s.epoch_samples;
      batch_at_start_ = s.batch;
      start_ = Clock::now();
      // The finished epochs change only between epochs: their mean length is taken once per epoch.
      double finished = 0.0;
      std::int64_t count = 0;
      for (const auto& record : s.history) {
        const auto it = record.values.find("seconds");
        if (it != record.values.end()) {
          finished += it->second;
          ++count;
        }
      }
      mean_epoch_seconds_ = count > 0 ? finished / static_cast<double>(count) : 0.0;
    }
    if (!bar_ && s.step % every_ != 0) {
      return;  // log lines every `every` steps only: nothing to compute in between
    }
    ProgressSnapshot snapshot;
    snapshot.epoch = s.epoch;
    snapshot.epochs = t.options().epochs();
    snapshot.batch = s.batch;
    snapshot.batches = s.batches_in_epoch;
    snapshot.step = s.step;
    snapshot.loss = s.last_loss;
    snapshot.lr = learning_rates(t.optimizer()).front();
    const double elapsed = std::max(1e-9, seconds_since(start_));
    snapshot.samples_per_second = static_cast<double>(s.epoch_samples - samples_at_start_) / elapsed;
    // The pace of the batches timed so far, as if the epoch had run at it from its start.
    const auto timed = s.batch - batch_at_start_;
    snapshot.epoch_seconds = timed > 0 ? elapsed * static_cast<double>(s.batch) / static_cast<double>(timed) : 0.0;
    snapshot.mean_epoch_seconds = mean_epoch_seconds_;
    if (bar_) {
      std::fprintf(stderr, "\r%s   ", progress_bar_line(snapshot).c_str());
      std::fflush(stderr);
    } else {
      logger()->info("{}", progress_log_line(snapshot));
    }
  }
  void on_epoch_end(Trainer& t, const EpochRecord& record) override {
    if (quiet_ || !t.is_main()) {
      return;
    }
    if (bar_) {
      std::fprintf(stderr, "\n");
    }
    logger()->info("epoch {}/{}: {}", record.epoch + 1, t.options().epochs(), format_values(record.values));
  }

 private:
  std::int64_t every_;
  bool bar_ = false;
  bool quiet_ = false;
  Clock::time_point start_ = Clock::now();
  std::int64_t samples_at_start_ = -1;
  std::int64_t batch_at_start_ = 0;
  double mean_epoch_seconds_ = 0.0;
};

class HistoryCallback : public Callback {
 public:
  explicit HistoryCallback(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::string name() const override { return "history"; }
  void on_epoch_end(Trainer& t, const EpochRecord&) override {
    if (!t.is_main()) {
      return;
    }
    const auto& history = t.state().history;
    std::ostringstream lines;
    std::vector<std::string> columns;
    for (const auto& record : history) {
      lines << record.to_json().dump() << "\n";
      for (const auto& [k, v] : record.values) {
        if (std::find(columns.begin(), columns.end(), k) == columns.end()) {
          columns.push_back(k);
        }
      }
    }
    std::filesystem::create_directories(dir_);
    write_file_atomically(dir_ / "history.jsonl", lines.str());
    std::ostringstream csv;
    csv << "epoch";
    for (const auto& c : columns) {
      csv << "," << c;
    }
    csv << "\n";
    for (const auto& record : history) {
      csv << record.epoch + 1;
      for (const auto& c : columns) {
        const auto it = record.values.find(c);
        csv << ",";
        if (it != record.values.end() && std::isfinite(it->second)) {
          csv << fmt::format("{:.10g}", it->second);
        }
      }
      csv << "\n";
    }
    write_file_atomically(dir_ / "history.csv", csv.str());
  }

 private:
  std::filesystem::path dir_;
};

class CheckpointCallback : public Callback {
 public:
  explicit CheckpointCallback(std::int64_t every_steps) : every_steps_(every_steps) {}
  std::string name() const override { return "checkpoint"; }
  void on_step_end(Trainer& t) override {
    if (every_steps_ > 0 && t.state().step % every_steps_ == 0 && t.state().batch < t.state().batches_in_epoch) {
      t.save_checkpoint();
    }
  }
  void on_epoch_end(Trainer& t, const EpochRecord&) override { t.save_checkpoint(); }

 private:
  std::int64_t every_steps_;
};

class EarlyStoppingCallback : public Callback {
 public:
  EarlyStoppingCallback(std::int64_t patience, double min_delta) : patience_(patience), min_delta_(min_delta) {}
  std::string name() const override { return "early_stopping"; }
  void on_epoch_end(Trainer& t, const EpochRecord& record) override {
    const auto it = record.values.find(t.options().monitor());
    if (it == record.values.end() || !std::isfinite(it->second)) {
      return;
    }
    const double v = it->second;
    const bool better = !has_best_ || (t.monitor_higher_is_better() ? v > best_ + min_delta_ : v < best_ - min_delta_);
    if (better) {
      best_ = v;
      has_best_ = true;
      bad_ = 0;
    } else if (++bad_ >= patience_) {
      t.request_stop(fmt::format("early stopping: {} has not improved by more than {} for {} epochs (best {:.6g})",
                                 t.options().monitor(), min_delta_, patience_, best_));
    }
  }
  Json state() const override { return Json{{"best", best_}, {"has_best", has_best_}, {"bad", bad_}}; }
  void load_state(const Json& s) override {
    best_ = s.value("best", 0.0);
    has_best_ = s.value("has_best", false);
    bad_ = s.value("bad", std::int64_t{0});
  }

 private:
  std::int64_t patience_;
  double min_delta_;
  double best_ = 0.0;
  bool has_best_ = false;
  std::int64_t bad_ = 0;
};

struct ProgressCallbackOptions {
#define FINFUSE_PROGRESS_CALLBACK_FIELDS(F)                                                                  \
  F(std::string, mode, "auto", ::finfuse::FieldRule::one_of({"auto", "bar", "log", "none"}),                \
    "a bar on a terminal, log lines otherwise (auto), or as named")                                        \
  F(std::int64_t, every, 50, ::finfuse::Range::positive(), "optimisation steps between log lines")
  FINFUSE_OPTIONS(ProgressCallbackOptions, FINFUSE_PROGRESS_CALLBACK_FIELDS)
#undef FINFUSE_PROGRESS_CALLBACK_FIELDS
};

struct HistoryCallbackOptions {
#define FINFUSE_HISTORY_CALLBACK_FIELDS(F) \
  F(std::string, dir, "", ::finfuse::FieldRule::required(), "the folder history.csv and history.jsonl go to")
  FINFUSE_OPTIONS(HistoryCallbackOptions, FINFUSE_HISTORY_CALLBACK_FIELDS)
#undef FINFUSE_HISTORY_CALLBACK_FIELDS
};

struct CheckpointCallbackOptions {
#define FINFUSE_CHECKPOINT_CALLBACK_FIELDS(F)                                                                \
  F(std::int64_t, every_steps, 0, ::finfuse::Range::non_negative(),                                        \
    "also checkpoint every n optimisation steps (0: at epoch ends only)")
  FINFUSE_OPTIONS(CheckpointCallbackOptions, FINFUSE_CHECKPOINT_CALLBACK_FIELDS)
#undef FINFUSE_CHECKPOINT_CALLBACK_FIELDS
};

struct EarlyStoppingCallbackOptions {
#define FINFUSE_EARLY_STOPPING_CALLBACK_FIELDS(F)                                                            \
  F(std::int64_t, patience, 1, ::finfuse::FieldRule::required(::finfuse::Range::positive()),              \
    "epochs without improvement of the monitored value before stopping")                                    \
  F(double, min_delta, 0.0, ::finfuse::Range::non_negative(), "the least change that counts as an improvement")
  FINFUSE_OPTIONS(EarlyStoppingCallbackOptions, FINFUSE_EARLY_STOPPING_CALLBACK_FIELDS)
#undef FINFUSE_EARLY_STOPPING_CALLBACK_FIELDS
};

// TensorBoard: the step's loss, learning rates and samples/s every `every` optimisation steps ("train/..."), and every
// value of each epoch ("epoch/<name>" at the epoch's number); the main rank alone writes.
class TensorBoardCallback : public Callback {
 public:
  TensorBoardCallback(std::filesystem::path dir, std::int64_t every) : dir_(std::move(dir)), every_(every) {}

  void on_train_begin(Trainer& trainer) override {
    if (!trainer.is_main()) {
      return;
    }
    writer_ = std::make_unique<TensorBoardWriter>(dir_);
    logger()->info("tensorboard: writing {}", writer_->file().string());
    last_time_ = Clock::now();
    last_samples_ = trainer.state().samples;
  }
  void on_step_end(Trainer& trainer) override {
    const auto& state = trainer.state();
    if (!writer_ || state.step % every_ != 0) {
      return;
    }
    writer_->add_scalar("train/loss", state.last_loss, state.step);
    const auto rates = learning_rates(trainer.optimizer());
    writer_->add_scalar("train/lr", rates.front(), state.step);
    for (std::size_t g = 1; g < rates.size(); ++g) {
      writer_->add_scalar(fmt::format("train/lr/group_{}", g), rates[g], state.step);
    }
    const double seconds = seconds_since(last_time_);
    if (seconds > 0.0 && state.samples > last_samples_) {
      writer_->add_scalar("train/samples_per_second", static_cast<double>(state.samples - last_samples_) / seconds,
                          state.step);
    }
    last_time_ = Clock::now();
    last_samples_ = state.samples;
  }
  void on_epoch_end(Trainer&, const EpochRecord& record) override {
    if (!writer_) {
      return;
    }
    for (const auto& [name, value] : record.values) {
      writer_->add_scalar("epoch/" + name, value, record.epoch + 1);
    }
    writer_->flush();
    last_time_ = Clock::now();  // validation is not training throughput
  }
  void on_train_end(Trainer&) override {
    if (writer_) {
      writer_->flush();
    }
  }
  std::string name() const override { return "tensorboard"; }

 private:
  std::filesystem::path dir_;
  std::int64_t every_;
  std::unique_ptr<TensorBoardWriter> writer_;
  Clock::time_point last_time_;
  std::int64_t last_samples_ = 0;
};

struct TensorBoardCallbackOptions {
#define FINFUSE_TENSORBOARD_CALLBACK_FIELDS(F)                                                                  \
  F(std::string, dir, "", ::finfuse::FieldRule::required(), "the folder of the event files")                  \
  F(std::int64_t, every, 50, ::finfuse::Range::positive(), "optimisation steps between the step's scalars")
  FINFUSE_OPTIONS(TensorBoardCallbackOptions, FINFUSE_TENSORBOARD_CALLBACK_FIELDS)
#undef FINFUSE_TENSORBOARD_CALLBACK_FIELDS
};

void register_builtin_callbacks(CallbackRegistry& registry) {
  registry.add("tensorboard", [](const Config& config) -> std::shared_ptr<Callback> {
    const auto o = TensorBoardCallbackOptions::from_config(config);
    return std::make_shared<TensorBoardCallback>(o.dir(), o.every());
  }, TensorBoardCallbackOptions::fields());
  registry.add("progress", [](const Config& config) -> std::shared_ptr<Callback> {
    const auto o = ProgressCallbackOptions::from_config(config);
    return std::make_shared<ProgressCallback>(o.mode(), o.every());
  }, ProgressCallbackOptions::fields());
  registry.add("history", [](const Config& config) -> std::shared_ptr<Callback> {
    return std::make_shared<HistoryCallback>(HistoryCallbackOptions::from_config(config).dir());
  }, HistoryCallbackOptions::fields());
  registry.add("checkpoint", [](const Config& config) -> std::shared_ptr<Callback> {
    return std::make_shared<CheckpointCallback>(CheckpointCallbackOptions::from_config(config).every_steps());
  }, CheckpointCallbackOptions::fields());
  registry.add("early_stopping", [](const Config& config) -> std::shared_ptr<Callback> {
    const auto o = EarlyStoppingCallbackOptions::from_config(config);
    return std::make_shared<EarlyStoppingCallback>(o.patience(), o.min_delta());
  }, EarlyStoppingCallbackOptions::fields());
}

}  // namespace

CallbackRegistry& callback_registry() {
  static CallbackRegistry registry("callback", register_builtin_callbacks);
  return registry;
}

Json EpochRecord::to_json() const { return Json{{"epoch", epoch + 1}, {"values", evaluation::values_json(values)}}; }

}  // namespace finfuse::training
