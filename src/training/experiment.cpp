#include "finfuse/training/experiment.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"
#include "finfuse/data/splits.h"
#include "finfuse/data/time.h"
#include "finfuse/evaluation/efficiency.h"
#include "finfuse/evaluation/metric.h"
#include "finfuse/training/stop_signal.h"
#include "finfuse/training/tensorboard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

namespace finfuse::training {
namespace {

using evaluation::values_json;

std::string day_string(std::int32_t day) { return data::Date(day).to_string(); }

}  // namespace

std::unique_ptr<Trainer> make_run_trainer(const Config& model_config, TrainerOptions options,
                                          const data::DataPipeline& pipeline, const c10::Device& device,
                                          std::uint64_t seed) {
  const auto dataset = pipeline.dataset();
  const auto& split = pipeline.split();
  seed_everything(seed);
  models::MultimodalModel model(model_config, models::modality_specs(*dataset), label_context(*dataset, split.train));
  model->set_entity_names(dataset->entities());
  options.seed(seed);
  return std::make_unique<Trainer>(options, model, dataset, split.train, split.valid, device);
}

RunResult train_and_evaluate(const Config& model_config, TrainerOptions options, const data::DataPipeline& pipeline,
                             const c10::Device& device, std::uint64_t seed, bool resume,
                             std::shared_ptr<GradientSync> sync) {
  const auto dataset = pipeline.dataset();
  const auto& split = pipeline.split();
  const auto trainer_ptr = make_run_trainer(model_config, options, pipeline, device, seed);
  auto& trainer = *trainer_ptr;
  if (sync) {
    trainer.set_gradient_sync(std::move(sync));
  }
  // A run killed before its first checkpoint has no folder yet: --resume then starts from the beginning.
  if (resume && !options.out_dir().empty() &&
      (!std::filesystem::exists(options.out_dir()) || !trainer.resume(options.out_dir()))) {
    logger()->warn("no checkpoint in {}; training from the start", options.out_dir());
  }
  RunResult result;
  result.seed = seed;
  result.fit = trainer.fit();
  if (result.fit.signal != 0) {
    const auto checkpoint = options.out_dir().empty() ? std::nullopt : Trainer::latest_checkpoint(options.out_dir());
    throw StoppedBySignal(result.fit.signal, result.fit.stop_reason, checkpoint.value_or(std::filesystem::path()));
  }
  if (!split.valid.empty()) {
    result.valid = trainer.evaluate(split.valid);
  }
  if (!split.test.empty()) {
    result.test = trainer.evaluate(split.test, true);
    // Single-sample inference latency and the memory the run needed, next to the accuracy figures.
    auto one = dataset->collate({split.test.front()}).to(device);
    auto& m = *trainer.model();
    m.eval();
    torch::NoGradGuard no_grad;
    const auto latency = evaluation::measure_latency([&] { m.forward(one); }, 100, 10);
    result.test.values["latency_p50_ms"] = latency.p50_ms;
    result.test.values["latency_p99_ms"] = latency.p99_ms;
    result.test.values["peak_memory_mb"] = static_cast<double>(evaluation::peak_memory_bytes()) / (1024.0 * 1024.0);
  }
  result.model = trainer.model();
  return result;
}

Aggregate Aggregate::of(const std::vector<std::map<std::string, double>>& runs) {
  Aggregate a;
  a.runs = static_cast<std::int64_t>(runs.size());
  std::map<std::string, std::vector<double>> by_key;
  for (const auto& run : runs) {
    for (const auto& [k, v] : run) {
      if (std::isfinite(v)) {
        by_key[k].push_back(v);
      }
    }
  }
  for (const auto& [k, values] : by_key) {
    const auto n = static_cast<double>(values.size());
    double mean = 0.0;
    for (const double v : values) {
      mean += v / n;
    }
    double ss = 0.0;
    for (const double v : values) {
      ss += (v - mean) * (v - mean);
    }
    a.mean[k] = mean;
    a.std[k] = values.size() > 1 ? std::sqrt(ss / (n - 1.0)) : 0.0;
    a.min[k] = *std::min_element(values.begin(), values.end());
    a.max[k] = *std::max_element(values.begin(), values.end());
  }
  return a;
}

Json Aggregate::to_json() const {
  Json out = Json::object();
  for (const auto& [k, m] : mean) {
    out[k] = Json{{"mean", m}, {"std", std.at(k)}, {"min", min.at(k)}, {"max", max.at(k)}};
  }
  return Json{{"runs", runs}, {"values", out}};
}

std::string Aggregate::table() const {
  std::size_t width = 5;
  for (const auto& [k, m] : mean) {
    width = std::max(width, k.size());
  }
  std::ostringstream out;
  for (const auto& [k, m] : mean) {
    out << fmt::format("{:<{}}  {:>10.4f} +- {:<8.4f} [{:.4f}, {:.4f}]\n", k, width, m, std.at(k), min.at(k), max.at(k));
  }
  return out.str();
}

Json MultiSeedResult::to_json() const {
  Json runs = Json::array();
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    runs.push_back(Json{{"seed", seeds[i]}, {"best_epoch", best_epochs[i] + 1}, {"valid", values_json(valid[i])},
                        {"test", values_json(test[i])}});
  }
  return Json{{"runs", runs}, {"valid", valid_summary.to_json()}, {"test", test_summary.to_json()}};
}

std::map<std::string, Json> run_hparams(const Config& model_config, const TrainerOptions& options, std::uint64_t seed,
                                        std::optional<std::int64_t> fold) {
  Json training = options.to_json();
  for (const char* key : {"out_dir", "tensorboard", "progress", "log_every", "callbacks", "prefetch",
                          "checkpoint_every_steps", "keep_checkpoints", "seed"}) {
    training.erase(key);
  }
  auto out = flatten_hparams(Json{{"model", model_config.json()}, {"training", training}});
  out["seed"] = seed;
  if (fold) {
    out["fold"] = *fold;
  }
  return out;
}

MultiSeedResult run_seeds(const Config& model_config, const TrainerOptions& options, const data::DataPipeline& pipeline,
                          const c10::Device& device, const std::vector<std::uint64_t>& seeds, bool resume,
                          std::shared_ptr<GradientSync> sync) {
  FINFUSE_CHECK(!seeds.empty(), "run_seeds: no seeds");
  MultiSeedResult result;
  const bool higher = options.higher_is_better();
  const bool tensorboard = !options.tensorboard().empty() && (!sync || sync->rank() == 0);
  std::vector<HParamsRun> sessions;
  for (const auto seed : seeds) {
    TrainerOptions o = options;
    if (!o.out_dir().empty()) {
      o.out_dir((std::filesystem::path(o.out_dir()) / fmt::format("seed-{}", seed)).string());
    }
    if (!o.tensorboard().empty()) {
      o.tensorboard((std::filesystem::path(o.tensorboard()) / fmt::format("seed-{}", seed)).string());
    }
    logger()->info("experiment: seed {} ({} of {})", seed, result.seeds.size() + 1, seeds.size());
    auto run = train_and_evaluate(model_config, o, pipeline, device, seed, resume, sync);
    if (tensorboard) {
      sessions.push_back(
          HParamsRun{run_hparams(model_config, options, seed), run.valid.values, run.test.values, run.fit.best_epoch + 1});
      write_hparams_run(o.tensorboard(), sessions.back());
    }
    result.seeds.push_back(seed);
    result.valid.push_back(run.valid.values);
    result.test.push_back(run.test.values);
    result.best_epochs.push_back(run.fit.best_epoch);
    const double value = run.fit.best_value;
    if (result.best.model.is_empty() ||
        (higher ? value > result.best.fit.best_value : value < result.best.fit.best_value)) {
      result.best = std::move(run);
    }
  }
  if (tensorboard) {
    write_hparams_experiment(options.tensorboard(), sessions);
  }
  result.valid_summary = Aggregate::of(result.valid);
  result.test_summary = Aggregate::of(result.test);
  return result;
}

Json WalkForwardResult::to_json() const {
  Json w = Json::array();
  for (const auto& window : windows) {
    w.push_back(Json{{"fold", window.fold},
                     {"train", {window.train_start, window.train_end}},
                     {"test", {window.test_start, window.test_end}},
                     {"train_samples", window.train_samples},
                     {"test_samples", window.test_samples},
                     {"valid", values_json(window.valid)},
                     {"test_values", values_json(window.test)}});
  }
  return Json{{"windows", w},
              {"overall", values_json(overall)},
              {"overall_details", overall_details},
              {"per_window", per_window.to_json()}};
}

WalkForwardResult run_walk_forward(const Config& model_config, const TrainerOptions& options,
                                   const data::DataConfig& data, const c10::Device& device, std::uint64_t seed,
                                   const std::filesystem::path& cache_dir) {
  if (data.split.kind != "walk_forward") {
    throw ConfigError("/data/split/kind", fmt::format("a walk-forward run needs \"walk_forward\" splits, got \"{}\"",
                                                      data.split.kind));
  }
  data::DataConfig fold_config = data;
  fold_config.split.fold = 0;
  auto pipeline = data::DataPipeline::build(fold_config, cache_dir);
  const auto folds = static_cast<std::int64_t>(data::walk_forward(pipeline.samples().samples, data.split.walk_forward).size());
  FINFUSE_CHECK(folds > 0, "walk-forward: the data give no complete window");
  WalkForwardResult result;
  std::vector<std::map<std::string, double>> per_window;
  std::vector<Json> metric_options = options.metrics();
  for (std::int64_t k = 0; k < folds; ++k) {
    if (k > 0) {
      fold_config.split.fold = k;
      pipeline = data::DataPipeline::build(fold_config, cache_dir);
    }
    TrainerOptions o = options;
    if (!o.out_dir().empty()) {
      o.out_dir((std::filesystem::path(o.out_dir()) / fmt::format("fold-{:03}", k)).string());
    }
    if (!o.tensorboard().empty()) {
      o.tensorboard((std::filesystem::path(o.tensorboard()) / fmt::format("fold-{:03}", k)).string());
    }
    logger()->info("walk-forward: fold {} of {}", k + 1, folds);
    auto run = train_and_evaluate(model_config, o, pipeline, device, seed);
    if (!o.tensorboard().empty()) {
      write_hparams_run(o.tensorboard(), HParamsRun{run_hparams(model_config, options, seed, k + 1), run.valid.values,
                                                    run.test.values, run.fit.best_epoch + 1});
    }
    const auto& split = pipeline.split();
    const auto& samples = pipeline.samples().samples;
    WalkForwardWindow window;
    window.fold = k;
    const auto span = [&](const data::SampleIndices& indices, std::string& first, std::string& last) {
      if (indices.empty()) {
        return;
      }
      std::int32_t lo = samples.day(indices.front()).days(), hi = lo;
      for (const auto i : indices) {
        lo = std::min(lo, samples.day(i).days());
        hi = std::max(hi, samples.day(i).days());
      }
      first = day_string(lo);
      last = day_string(hi);
    };
    span(split.train, window.train_start, window.train_end);
    span(split.test, window.test_start, window.test_end);
    window.train_samples = static_cast<std::int64_t>(split.train.size());
    window.test_samples = run.test.samples;
    window.valid = run.valid.values;
    window.test = run.test.values;
    per_window.push_back(window.test);
    result.windows.push_back(window);
    const auto head = run.model->head_names().front();
    const auto& rows = run.test.predictions.at(head);
    if (k == 0) {
      result.predictions.classes = rows.classes;
      result.head = head;
      result.entities = pipeline.dataset()->entities();
      if (metric_options.empty()) {
        for (const auto& m : evaluation::default_metrics(run.model->head(head).task())) {
          metric_options.emplace_back(m);
        }
      }
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::vector<double> probs;
      for (std::int64_t c = 0; c < rows.classes; ++c) {
        probs.push_back(rows.probability(i, c));
      }
      result.predictions.append_row(rows.day[i], rows.entity[i], rows.target[i], rows.forward_return[i], probs,
                                    rows.score[i]);
    }
  }
  std::vector<Config> configs;
  for (const auto& m : metric_options) {
    configs.emplace_back(m);
  }
  for (const auto& c : configs) {
    try {
      auto r = evaluation::make_metric(c)->compute(result.predictions);
      result.overall.insert(r.values.begin(), r.values.end());
      if (!r.details.empty()) {
        result.overall_details[c.json().is_string() ? c.json().get<std::string>() : c.json().value("type", "metric")] =
            r.details;
      }
    } catch (const Error& e) {
      logger()->warn("walk-forward: metric {} skipped: {}", c.json().dump(), e.what());
    }
  }
  result.per_window = Aggregate::of(per_window);
  return result;
}

}  // namespace finfuse::training
