// Experiment: seeds -> training -> selection on validation -> bundle -> metrics.json -> report.html -> predictions.
#include "finfuse/training/experiment.h"
#include "finfuse/training/tensorboard.h"

#include "finfuse/core/device.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/data/time.h"
#include "finfuse/evaluation/report.h"
#include "finfuse/io/bundle.h"
#include "finfuse/io/predictor.h"
#include "finfuse/training/distributed.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

namespace finfuse::training {
namespace {

using evaluation::values_json;
using evaluation::values_text;

// The values tabulated over seeds: the headline, or every test value.
std::vector<std::string> headline_keys(const ExperimentOptions& options, const MultiSeedResult& seeds) {
  if (!options.headline().empty()) {
    return options.headline();
  }
  std::vector<std::string> keys;
  for (const auto& [k, v] : seeds.test_summary.mean) {
    keys.push_back(k);
  }
  return keys;
}

void write_report(const ExperimentOptions& options, const ExperimentResult& result, const Json& data_summary,
                  const std::string& monitor) {
  const auto& seeds = result.seeds;
  const auto& best = seeds.best;
  evaluation::HtmlReport html(options.title().empty() ? std::string("finfuse run") : options.title());
  html.add_paragraph(fmt::format(
      "Trained in {:.1f} s: {} seed(s), each stopped and selected on the validation part by {}; the bundle holds seed "
      "{}, whose best validation value is the best (epoch {} of {}, {} = {:.6g}). Test figures are held out.",
      result.seconds, seeds.seeds.size(), monitor, best.seed, best.fit.best_epoch + 1, best.fit.history.size(),
      monitor, best.fit.best_value));
  const auto keys = headline_keys(options, seeds);
  if (seeds.seeds.size() > 1) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& key : keys) {
      rows.push_back({key, seeds.valid_summary.mean_std(key), seeds.test_summary.mean_std(key)});
    }
    html.add_table("Over the seeds (mean +- std)", {"metric", "validation", "test"}, rows);
    std::vector<std::vector<std::string>> per_seed;
    for (std::size_t i = 0; i < seeds.seeds.size(); ++i) {
      std::vector<std::string> row = {std::to_string(seeds.seeds[i]), std::to_string(seeds.best_epochs[i] + 1)};
      for (const auto& key : keys) {
        const auto it = seeds.test[i].find(key);
        row.push_back(it == seeds.test[i].end() ? "-" : fmt::format("{:.4f}", it->second));
      }
      per_seed.push_back(std::move(row));
    }
    std::vector<std::string> columns = {"seed", "best epoch"};
    for (const auto& key : keys) {
      columns.push_back(fmt::format("test {}", key));
    }
    html.add_table("Per seed", columns, per_seed);
  }
  if (!options.references().empty()) {
    std::vector<std::string> columns = {"model"};
    std::vector<std::string> ours = {fmt::format("finfuse (this run{})", seeds.seeds.size() > 1 ? ", mean" : "")};
    for (const auto& key : keys) {
      columns.push_back(fmt::format("test {}", key));
      ours.push_back(seeds.test_summary.mean_std(key));
    }
    std::vector<std::vector<std::string>> rows = {ours};
    for (const auto& r : options.references()) {
      std::vector<std::string> row = {r.name};
      for (const auto& key : keys) {
        row.push_back(r.test.count(key) ? fmt::format("{:.4f}", r.test.at(key)) : "-");
      }
      rows.push_back(std::move(row));
    }
    html.add_table("Published results on the same protocol", columns, rows);
  }
  html.add_heading(fmt::format("Seed {} (the bundle's)", best.seed));
  html.add_values("Validation (model selection)", best.valid.values);
  html.add_values("Test (held out)", best.test.values);
  std::vector<std::map<std::string, double>> records;
  for (const auto& r : best.fit.history) {
    records.push_back(r.values);
  }
  evaluation::add_learning_curves(html, records, monitor);
  for (const auto& [head, rows] : best.test.predictions) {
    evaluation::add_prediction_plots(html, fmt::format("{} (test)", head), rows, options.backtest());
  }
  html.add_heading("Data");
  html.add_json("data summary", data_summary);
  html.add_heading("Manifest");
  html.add_json("manifest.json", result.manifest);
  html.write(result.report);
}

// Writes the predictions of `heads` (rows of the same samples, in the same order) with each row's entity name and,
// for dated samples, its decision date.
void write_predictions(const std::map<std::string, evaluation::PredictionRows>& heads,
                       const std::vector<std::string>& entities, bool dated, const std::filesystem::path& path) {
  io::PredictionTable table;
  for (const auto& [head, rows] : heads) {
    table.heads.push_back(head);
    table.rows[head] = rows;
  }
  const auto& first = heads.begin()->second;
  for (std::size_t i = 0; i < first.size(); ++i) {
    table.entity.push_back(entities[static_cast<std::size_t>(first.entity[i])]);
    table.date.push_back(dated ? data::Date(first.day[i]).to_string() : std::string());
  }
  table.write_csv(path);
}

// What both experiments need from their options, checked when they are made.
void check_options(const char* what, const RunConfig& run, const ExperimentOptions& options) {
  if (options.out_dir().empty()) {
    throw Error(fmt::format("{}: out_dir is empty; name the folder the results go to", what));
  }
  if (options.seeds().empty() && run.seeds.empty()) {
    throw Error(fmt::format("{}: no seeds (neither ExperimentOptions::seeds nor experiment.seeds)", what));
  }
}

std::string summary_text(const ExperimentOptions& options, const ExperimentResult& result, const std::string& monitor) {
  const auto& seeds = result.seeds;
  const auto& best = seeds.best;
  std::string text = fmt::format("trained in {:.1f} s; best epoch {} by {}{}\nvalidation:\n{}test:\n{}", result.seconds,
                                 best.fit.best_epoch + 1, monitor,
                                 seeds.seeds.size() > 1 ? fmt::format(" (seed {}, the best of {})", best.seed,
                                                                      seeds.seeds.size())
                                                        : std::string(),
                                 values_text(best.valid.values), values_text(best.test.values));
  if (seeds.seeds.size() > 1) {
    text += fmt::format("test over {} seeds (mean +- std):\n", seeds.seeds.size());
    for (const auto& key : headline_keys(options, seeds)) {
      text += fmt::format("  {:<28} {}\n", key, seeds.test_summary.mean_std(key));
    }
  }
  for (const auto& r : options.references()) {
    text += fmt::format("published: {}:", r.name);
    for (const auto& [k, v] : r.test) {
      text += fmt::format(" {} {:.4f}", k, v);
    }
    text += "\n";
  }
  text += fmt::format("report: {}\nbundle: {}\n", result.report.string(), result.bundle.string());
  return text;
}

std::string window_value(const std::map<std::string, double>& values, const std::string& key) {
  const auto it = values.find(key);
  return it == values.end() ? std::string("-") : fmt::format("{:.4f}", it->second);
}

void write_walk_forward_report(const ExperimentOptions& options, const WalkForwardExperimentResult& result) {
  const auto& first = result.runs.front();
  evaluation::HtmlReport html(options.title().empty() ? std::string("finfuse walk-forward run") : options.title());
  html.add_paragraph(fmt::format(
      "{} seed(s) of a walk-forward over {} windows: each window's model is fitted on data before it, selected on its "
      "validation part and tested on the window that follows; figures are the out-of-sample predictions of all "
      "windows together{}.",
      result.seeds.size(), first.windows.size(), result.seeds.size() > 1 ? ", mean +- std over the seeds" : ""));
  std::vector<std::string> keys = options.headline();
  if (keys.empty()) {
    for (const auto& [k, v] : first.overall) {
      keys.push_back(k);
    }
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& key : keys) {
    rows.push_back({key, result.seeds.size() > 1 ? result.overall.mean_std(key) : window_value(first.overall, key)});
  }
  html.add_table("Out of sample, all windows", {"metric", result.seeds.size() > 1 ? "mean +- std" : "value"}, rows);
  const std::vector<std::string> window_keys =
      options.headline().empty() ? std::vector<std::string>{"loss"} : options.headline();
  std::vector<std::string> columns = {"fold", "train", "test", "test samples"};
  for (const auto& key : window_keys) {
    columns.push_back(fmt::format("test {}", key));
  }
  std::vector<std::vector<std::string>> windows;
  for (const auto& w : first.windows) {
    std::vector<std::string> row = {std::to_string(w.fold + 1), fmt::format("{} .. {}", w.train_start, w.train_end),
                                    fmt::format("{} .. {}", w.test_start, w.test_end), std::to_string(w.test_samples)};
    for (const auto& key : window_keys) {
      row.push_back(window_value(w.test, key));
    }
    windows.push_back(std::move(row));
  }
  html.add_table(fmt::format("Windows (seed {})", result.seeds.front()), columns, windows);
  evaluation::add_prediction_plots(html, fmt::format("{}, seed {}", first.head, result.seeds.front()),
                                   first.predictions, options.backtest());
  html.write(result.report);
}

}  // namespace

std::string Aggregate::mean_std(const std::string& key, double scale) const {
  const auto it = mean.find(key);
  if (it == mean.end()) {
    return "-";
  }
  return fmt::format("{:.4f} +- {:.4f}", it->second * scale, std.at(key) * scale);
}

Experiment::Experiment(RunConfig run, ExperimentOptions options) : run_(std::move(run)), options_(std::move(options)) {
  check_options("Experiment", run_, options_);
}

ExperimentResult Experiment::run() const { return run(resolve_device(run_.runtime.device())); }

ExperimentResult Experiment::run(const c10::Device& device) const {
  const auto& distributed = options_.distributed();
  const bool main_rank = !distributed || distributed->rank() == 0;
  const auto& out = options_.out_dir();
  std::filesystem::create_directories(out);
  const auto cache = options_.cache_dir().empty() ? out / "cache" : options_.cache_dir();
  // The main rank builds (and caches) the dataset first; the others then load it from the cache.
  std::optional<data::DataPipeline> built;
  if (main_rank) {
    built.emplace(data::DataPipeline::build(run_.data, cache));
  }
  if (distributed) {
    distributed->barrier("the dataset build");
  }
  if (!main_rank) {
    built.emplace(data::DataPipeline::build(run_.data, cache));
  }
  const auto& pipeline = *built;

  const auto start = std::chrono::steady_clock::now();
  auto training = run_.training;
  training.out_dir((out / "runs").string());
  const auto& seeds = options_.seeds().empty() ? run_.seeds : options_.seeds();
  ExperimentResult result;
  result.seeds = run_seeds(run_.model, training, pipeline, device, seeds, options_.resume(), distributed);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!main_rank) {
    logger()->info("rank {}: training done; rank 0 writes the bundle and the report", distributed->rank());
    return result;
  }

  const auto& best = result.seeds.best;
  Json history = Json::array();
  for (const auto& r : best.fit.history) {
    history.push_back(r.to_json());
  }
  Json over_seeds(nullptr);
  if (seeds.size() > 1) {
    over_seeds = result.seeds.to_json();
    over_seeds["seeds"] = result.seeds.seeds;
  }
  const auto data_summary = pipeline.summary();
  result.metrics = Json{{"valid", values_json(best.valid.values)},
                        {"test", values_json(best.test.values)},
                        {"best_epoch", best.fit.best_epoch + 1},
                        {"monitor", best.fit.monitor},
                        {"seed", best.seed},
                        {"world_size", distributed ? distributed->world_size() : 1},
                        {"seconds", result.seconds},
                        {"history", history},
                        {"seeds", over_seeds},
                        {"data", data_summary}};
  if (!options_.title().empty()) {
    result.metrics["title"] = options_.title();
  }

  result.bundle = out / "bundle";
  result.report = out / "report.html";
  result.metrics_file = out / "metrics.json";
  auto source = io::bundle_source(best.model, pipeline);
  source.training = run_.training.to_json();
  source.runtime = run_.runtime.to_json();
  source.metrics = result.metrics;
  source.seed = best.seed;
  source.deterministic = run_.runtime.deterministic();
  source.training_seconds = result.seconds;
  result.manifest = io::write_bundle(result.bundle, source);
  write_file_atomically(result.metrics_file, result.metrics.dump(2));
  if (!best.test.predictions.empty()) {
    result.predictions = out / "test_predictions.csv";
    write_predictions(best.test.predictions, pipeline.dataset()->entities(), pipeline.samples().timed,
                      result.predictions);
  }
  write_report(options_, result, data_summary, best.fit.monitor);
  result.summary = summary_text(options_, result, best.fit.monitor);
  result.written = true;
  return result;
}

WalkForwardExperiment::WalkForwardExperiment(RunConfig run, ExperimentOptions options)
    : run_(std::move(run)), options_(std::move(options)) {
  check_options("WalkForwardExperiment", run_, options_);
  if (options_.distributed()) {
    // Every rank would train every window on its own and write the same files.
    throw Error(fmt::format("walk-forward runs in one process (this is rank {} of {}); distributed training is for "
                            "holdout runs",
                            options_.distributed()->rank(), options_.distributed()->world_size()));
  }
}

WalkForwardExperimentResult WalkForwardExperiment::run() const {
  return run(resolve_device(run_.runtime.device()));
}

WalkForwardExperimentResult WalkForwardExperiment::run(const c10::Device& device) const {
  const auto& out = options_.out_dir();
  std::filesystem::create_directories(out);
  const auto cache = options_.cache_dir().empty() ? out / "cache" : options_.cache_dir();
  WalkForwardExperimentResult result;
  result.seeds = options_.seeds().empty() ? run_.seeds : options_.seeds();
  std::vector<std::map<std::string, double>> overall;
  for (const auto seed : result.seeds) {
    auto training = run_.training;
    training.out_dir((out / "folds" / fmt::format("seed-{}", seed)).string());
    if (!training.tensorboard().empty()) {
      training.tensorboard((std::filesystem::path(training.tensorboard()) / fmt::format("seed-{}", seed)).string());
    }
    logger()->info("walk-forward: seed {} ({} of {})", seed, result.runs.size() + 1, result.seeds.size());
    result.runs.push_back(run_walk_forward(run_.model, training, run_.data, device, seed, cache));
    overall.push_back(result.runs.back().overall);
  }
  if (!run_.training.tensorboard().empty()) {
    // One HParams experiment over every seed's windows (each window wrote its own session).
    std::vector<HParamsRun> sessions;
    for (std::size_t i = 0; i < result.runs.size(); ++i) {
      for (const auto& window : result.runs[i].windows) {
        sessions.push_back(HParamsRun{run_hparams(run_.model, run_.training, result.seeds[i], window.fold + 1),
                                      window.valid, window.test, 0});
      }
    }
    write_hparams_experiment(run_.training.tensorboard(), sessions);
  }
  result.overall = Aggregate::of(overall);
  const auto& first = result.runs.front();

  Json document = first.to_json();
  document["seeds"] = result.seeds;
  document["overall_per_seed"] = Json::array();
  for (const auto& values : overall) {
    document["overall_per_seed"].push_back(values_json(values));
  }
  document["over_seeds"] = result.overall.to_json();
  if (!options_.title().empty()) {
    document["title"] = options_.title();
  }
  result.results_file = out / "walk_forward.json";
  result.predictions = out / "predictions.csv";
  result.report = out / "report.html";
  write_file_atomically(result.results_file, document.dump(2));
  write_predictions({{first.head, first.predictions}}, first.entities, /*dated=*/true, result.predictions);
  write_walk_forward_report(options_, result);

  std::string text = fmt::format("{} windows\n", first.windows.size());
  for (const auto& w : first.windows) {
    text += fmt::format("  fold {}: train {} .. {}, test {} .. {} ({} samples)\n", w.fold + 1, w.train_start,
                        w.train_end, w.test_start, w.test_end, w.test_samples);
  }
  text += fmt::format("out of sample, all windows:\n{}per window (mean +- std):\n{}", values_text(first.overall),
                      first.per_window.table());
  if (result.seeds.size() > 1) {
    text += fmt::format("out of sample over {} seeds (mean +- std):\n{}", result.seeds.size(), result.overall.table());
  }
  text += fmt::format("report: {}\npredictions: {}\n", result.report.string(), result.predictions.string());
  result.summary = std::move(text);
  result.written = true;
  return result;
}

}  // namespace finfuse::training
