// The finfuse command-line tool: train, tune, pretrain, evaluate, predict, walk-forward, backtest, metrics, data, inspect.
// Exit codes: 0 success, 2 usage or configuration error, 1 runtime failure. Errors are one line and a hint.
#include "finfuse/core/config.h"
#include "finfuse/core/device.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"
#include "finfuse/core/runtime.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/data/synthetic_universe.h"
#include "finfuse/data/time.h"
#include "finfuse/evaluation/backtest.h"
#include "finfuse/evaluation/metric.h"
#include "finfuse/evaluation/report.h"
#include "finfuse/io/bundle.h"
#include "finfuse/io/predictor.h"
#include "finfuse/training/experiment.h"
#include "finfuse/training/pretrain.h"
#include "finfuse/training/run_config.h"
#include "finfuse/training/stop_signal.h"
#include "finfuse/training/tuner.h"
#include "finfuse/version.h"
#include "launch.h"
#include "options_command.h"

#include <CLI/CLI.hpp>
#include <torch/version.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ff = finfuse;

namespace {

struct Common {
  std::string format = "text";
  std::string log_level;
  bool quiet = false;
};

// Printed figures: a JSON document, or "key: value" lines.
void report(const Common& common, const ff::Json& document, const std::string& text) {
  if (common.format == "json") {
    std::cout << document.dump(2) << "\n";
  } else {
    std::cout << text;
  }
}

using ff::evaluation::values_json;
using ff::evaluation::values_text;

using RunConfig = ff::training::RunConfig;

RunConfig load_run_config(const std::filesystem::path& path) { return RunConfig::load(path); }

void apply_common(const Common& common, const ff::RuntimeOptions& runtime) {
  auto options = runtime;
  if (!common.log_level.empty()) {
    options.log_level(common.log_level);
  }
  if (common.quiet) {
    options.log_level("warn");
    ff::set_log_level(spdlog::level::warn);
  }
  ff::apply_runtime(options);
}

// ------------------------------------------------------------------------------------------------------ commands

int train(const Common& common, const std::string& config_path, const std::string& out, bool resume,
          const std::string& tensorboard, const std::string& cache_dir) {
  auto run = load_run_config(config_path);
  if (!tensorboard.empty()) {
    run.training.tensorboard(tensorboard);
  }
  // One rank of a distributed job when launched by `finfuse launch` or torchrun (WORLD_SIZE in the environment).
  const auto job = ff::training::DistributedEnv::from_environment();
  const bool main_rank = !job || job->rank == 0;
  auto runtime = run.runtime;
  if (!main_rank && common.log_level.empty()) {
    runtime.log_level("warn");  // one rank reports; the others speak up for warnings and errors
  }
  apply_common(common, runtime);
  // Each rank of a job on its own GPU (cuda:LOCAL_RANK) unless the configuration names one.
  const auto device = job ? ff::resolve_device(run.runtime.device(), job->local_rank)
                          : ff::resolve_device(run.runtime.device());
  std::shared_ptr<ff::training::DistributedContext> distributed;
  if (job && job->world_size > 1) {
    distributed = ff::training::DistributedContext::connect(*job, run.distributed, device);
  }
  // Every seed trains under DIR/runs/seed-<n>; the bundle holds the seed with the best validation value.
  const auto options = ff::training::ExperimentOptions(out)
                           .resume(resume)
                           .cache_dir(cache_dir)
                           .title(fmt::format("finfuse training run: {}", config_path))
                           .distributed(distributed);
  const auto result = ff::training::Experiment(std::move(run), options).run(device);
  if (!result.written) {
    return 0;  // another rank: rank 0 writes the bundle and reports
  }
  report(common,
         ff::Json{{"metrics", result.metrics}, {"bundle", result.bundle.string()}, {"seconds", result.seconds}},
         result.summary);
  return 0;
}

// Masked-language pre-training of a text encoder on a corpus.
int pretrain(const Common& common, const std::string& config_path, const std::string& out) {
  apply_common(common, ff::RuntimeOptions());
  auto options = ff::training::PretrainOptions::from_config(ff::Config::load(config_path));
  // Relative paths are read from the configuration's folder.
  const auto base = std::filesystem::absolute(config_path).parent_path();
  if (options.texts().path.is_relative()) {
    options.texts().path = base / options.texts().path;
  }
  if (!options.tokenizer().vocab_file.empty() && std::filesystem::path(options.tokenizer().vocab_file).is_relative()) {
    options.tokenizer().vocab_file = (base / options.tokenizer().vocab_file).string();
  }
  const auto result = ff::training::pretrain(options, out);
  std::string text = fmt::format("pre-trained on {} text(s) ({} held out), vocabulary of {} tokens, {} parameters\n",
                                 result.train_texts, result.valid_texts, result.vocab_size, result.parameters);
  for (const auto& e : result.epochs) {
    text += fmt::format("  epoch {}: train loss {:.4f}, held-out loss {:.4f}, held-out accuracy {:.4f}\n", e.epoch,
                        e.train_loss, e.valid_loss, e.valid_accuracy);
  }
  text += fmt::format("vocabulary: {}\nweights: {}\nto start a run from it: {} (or the text encoder's \"pretrained\": "
                      "{{\"path\": \"{}\", \"format\": \"huggingface\"}})\n",
                      result.vocab_file.string(), result.weights_file.string(),
                      (std::filesystem::path(out) / "use.json").string(), std::filesystem::absolute(out).string());
  report(common, result.to_json(), text);
  return 0;
}

// A search on the validation part, then the best configuration trained with several seeds and tested once.
int tune(const Common& common, const std::string& config_path, const std::string& search_path, const std::string& out,
         bool search_only) {
  const auto run = load_run_config(config_path);
  apply_common(common, run.runtime);
  const auto options = ff::training::TuneOptions::from_config(ff::Config::load(search_path));
  // The trials' configurations carry absolute input paths, so that the best one runs from anywhere.
  auto base = ff::Config::load(config_path).json();
  base["data"] = run.data.to_json();
  if (run.training.warm_start()) {
    base["training"]["warm_start"]["path"] = run.training.warm_start()->path().string();
  }
  const std::filesystem::path out_dir(out);
  const auto base_dir = std::filesystem::absolute(config_path).parent_path();
  auto runner = ff::training::training_trial_runner(base_dir, out_dir / "cache");
  const auto result = ff::training::tune(base, options, out_dir, *runner);
  ff::write_file_atomically(out_dir / "best_config.json", result.best_config.dump(2) + "\n");
  ff::write_file_atomically(out_dir / "report.html",
                            ff::training::tune_report_html(result, options, fmt::format("finfuse tune: {}", config_path)));
  const auto& best = result.trials.at(static_cast<std::size_t>(result.best));
  std::string text = fmt::format("{} trial(s), {:.0f} s of training; best: trial {} with {} {:.6g}: {}\n",
                                 result.trials.size(), result.seconds, best.id + 1, result.monitor,
                                 best.rungs.back().value, best.assignment.dump());
  text += fmt::format("best configuration: {}\nsearch report: {}\n", (out_dir / "best_config.json").string(),
                      (out_dir / "report.html").string());
  ff::Json document = result.to_json();
  if (!search_only) {
    // The only time the test part is scored: the chosen configuration, once per final seed.
    auto best_run = RunConfig::from_config(ff::Config(result.best_config, (out_dir / "best_config.json").string()),
                                           base_dir);
    const auto experiment = ff::training::ExperimentOptions(out_dir / "best")
                                .seeds(options.final_seeds())
                                .cache_dir(out_dir / "cache")
                                .title(fmt::format("finfuse tune: the best configuration of {}", config_path));
    const auto final_run =
        ff::training::Experiment(std::move(best_run), experiment).run(ff::resolve_device(run.runtime.device()));
    text += final_run.summary;
    document["final"] = ff::Json{{"metrics", final_run.metrics}, {"bundle", final_run.bundle.string()}};
  }
  report(common, document, text);
  return 0;
}

// New data: the bundle's data configuration with the main input replaced (prices, or the samples' table).
ff::data::DataConfig inference_data(const ff::io::Predictor& predictor, const std::string& input,
                                    const std::string& data_path) {
  if (!data_path.empty()) {
    const auto config = ff::Config::load(data_path);
    return ff::data::DataConfig::from_config(config, std::filesystem::absolute(data_path).parent_path());
  }
  auto data = predictor.training_data();
  if (!input.empty()) {
    if (!data.samples_from_table.empty()) {
      for (auto& t : data.tables) {
        if (t.name == data.samples_from_table) {
          t.path = input;
        }
      }
    } else if (data.prices) {
      data.prices->path = std::filesystem::path(input);
    }
  }
  return data;
}

std::vector<std::string> default_metric_names(const ff::io::Predictor& predictor, const std::string& head) {
  return ff::evaluation::default_metrics(predictor.model()->head(head).task());
}

int evaluate(const Common& common, const std::string& bundle, const std::string& input, const std::string& data_path,
             const std::string& device, const std::string& report_path) {
  apply_common(common, ff::RuntimeOptions());
  const ff::io::Predictor predictor(bundle, ff::resolve_device(device));
  const auto table = predictor.predict(inference_data(predictor, input, data_path));
  ff::Json document = ff::Json::object();
  std::string text;
  ff::evaluation::HtmlReport html(fmt::format("finfuse evaluation of {}", bundle));
  html.add_paragraph(fmt::format("{} samples predicted.", table.size()));
  for (const auto& head : table.heads) {
    // Only samples whose label is known are scored.
    const auto& all = table.rows.at(head);
    ff::evaluation::PredictionRows rows;
    rows.classes = all.classes;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (std::isfinite(all.target[i])) {
        std::vector<double> p;
        for (std::int64_t c = 0; c < all.classes; ++c) {
          p.push_back(all.probability(i, c));
        }
        rows.append_row(all.day[i], all.entity[i], all.target[i], all.forward_return[i], p, all.score[i]);
      }
    }
    if (rows.size() == 0) {
      throw ff::Error(fmt::format("no sample of the data has a known label for head '{}' to evaluate against", head));
    }
    std::map<std::string, double> values;
    for (const auto& name : default_metric_names(predictor, head)) {
      try {
        auto r = ff::evaluation::make_metric(ff::Config(ff::Json(name)))->compute(rows);
        values.insert(r.values.begin(), r.values.end());
      } catch (const ff::Error& e) {
        ff::logger()->debug("metric {} skipped: {}", name, e.what());
      }
    }
    document[head] = ff::Json{{"samples", rows.size()}, {"values", values_json(values)}};
    text += fmt::format("{} ({} samples):\n{}", head, rows.size(), values_text(values));
    html.add_heading(head);
    html.add_values(fmt::format("{} ({} samples with a known label)", head, rows.size()), values);
    ff::evaluation::add_prediction_plots(html, head, rows);
  }
  html.add_heading("Bundle manifest");
  html.add_json("manifest.json", predictor.bundle().manifest);
  if (!report_path.empty()) {
    html.write(report_path);
    text += fmt::format("report: {}\n", report_path);
  }
  report(common, document, text);
  return 0;
}

int predict(const Common& common, const std::string& bundle, const std::string& input, const std::string& data_path,
            const std::string& out, const std::string& device) {
  apply_common(common, ff::RuntimeOptions());
  const ff::io::Predictor predictor(bundle, ff::resolve_device(device));
  const auto table = predictor.predict(inference_data(predictor, input, data_path));
  table.write_csv(out);
  report(common, ff::Json{{"predictions", table.size()}, {"out", out}, {"heads", table.heads}},
         fmt::format("{} predictions written to {}\n", table.size(), out));
  return 0;
}

int walk_forward(const Common& common, const std::string& config_path, const std::string& out,
                 const std::string& tensorboard) {
  if (const auto job = ff::training::DistributedEnv::from_environment(); job && job->world_size > 1) {
    // Every rank would train every window on its own and write the same files.
    throw ff::Error(fmt::format("walk-forward runs in one process (this is rank {} of {}); distributed training is for "
                                "`finfuse train`",
                                job->rank, job->world_size));
  }
  auto run = load_run_config(config_path);
  if (!tensorboard.empty()) {
    run.training.tensorboard(tensorboard);
  }
  apply_common(common, run.runtime);
  const auto options = ff::training::ExperimentOptions(out).title(fmt::format("finfuse walk-forward run: {}",
                                                                              config_path));
  const auto result = ff::training::WalkForwardExperiment(std::move(run), options).run();
  const auto& first = result.runs.front();
  report(common, first.to_json(), result.summary);
  return 0;
}

int metrics(const Common& common, const std::string& path, std::string head, const std::string& task,
            const std::vector<std::string>& names) {
  apply_common(common, ff::RuntimeOptions());
  const auto rows = ff::io::read_predictions_csv(path, head, task);
  const auto list = names.empty() ? ff::evaluation::default_metrics(task.empty() ? (rows.classes > 0 ? "classification"
                                                                                                     : "regression")
                                                                                 : task)
                                  : names;
  std::map<std::string, double> values;
  for (const auto& name : list) {
    auto r = ff::evaluation::make_metric(ff::Config(ff::Json(name)))->compute(rows);
    values.insert(r.values.begin(), r.values.end());
  }
  report(common, ff::Json{{"head", head}, {"samples", rows.size()}, {"values", values_json(values)}},
         fmt::format("{} ({} samples):\n{}", head, rows.size(), values_text(values)));
  return 0;
}

int backtest(const Common& common, const std::string& path, std::string head, const ff::Json& options) {
  apply_common(common, ff::RuntimeOptions());
  const auto rows = ff::io::read_predictions_csv(path, head, "backtest");
  const auto o = ff::evaluation::BacktestOptions::from_config(ff::Config(options));
  const auto result = ff::evaluation::run_backtest(rows, o);
  const std::map<std::string, double> values = {
      {"annual_return", result.annual_return}, {"volatility", result.volatility},
      {"sharpe", result.sharpe},               {"sortino", result.sortino},
      {"max_drawdown", result.max_drawdown},   {"calmar", result.calmar},
      {"turnover", result.turnover},           {"total_return", result.total_return},
      {"periods", static_cast<double>(result.days.size())},
      {"benchmark_annual_return", result.benchmark_annual_return}};
  report(common, result.to_json(), fmt::format("long-short backtest of {} ({} periods):\n{}", head,
                                               result.days.size(), values_text(values)));
  return 0;
}

int data_summary(const Common& common, const std::string& config_path, const std::string& cache_dir) {
  auto run = load_run_config(config_path);
  apply_common(common, run.runtime);
  const auto pipeline = ff::data::DataPipeline::build(run.data, cache_dir);
  const auto summary = pipeline.summary();
  report(common, summary, summary.dump(2) + "\n");
  return 0;
}

int universe(const Common& common, const std::string& config_path, const ff::Json& overrides,
             const std::string& out) {
  apply_common(common, ff::RuntimeOptions());
  ff::Json options = ff::Json::object();
  if (!config_path.empty()) {
    options = ff::Config::load(config_path).json();
  }
  for (const auto& [key, value] : overrides.items()) {
    options[key] = value;
  }
  const std::string source = config_path.empty()   ? std::string("the command line")
                             : overrides.empty()   ? config_path
                                                   : fmt::format("{} with the command line's flags", config_path);
  const auto o = ff::data::UniverseOptions::from_config(ff::Config(options, source));
  const auto r = ff::data::generate_universe(o, out);
  const ff::Json document{{"out", out},
                          {"sessions", r.sessions},
                          {"first", r.first.to_string()},
                          {"last", r.last.to_string()},
                          {"bars", r.bars},
                          {"texts", r.texts},
                          {"edges", r.edges},
                          {"minute_bars", r.minute_bars},
                          {"bytes", r.bytes},
                          {"oracle_ic", r.oracle_ic},
                          {"oracle_rank_ic", r.oracle_rank_ic}};
  report(common, document,
         fmt::format("universe in {}: {} stocks x {} sessions ({} to {}), {} bars, {} texts, {} edges, {} minute bars, "
                     "{:.1f} MB\n  planted signal: oracle IC {:.4f}, rank IC {:.4f}\n  train on it: finfuse train -c "
                     "{}/run.json -o RUN_DIR\n",
                     out, o.stocks(), r.sessions, r.first.to_string(), r.last.to_string(), r.bars, r.texts, r.edges,
                     r.minute_bars, static_cast<double>(r.bytes) / 1e6, r.oracle_ic, r.oracle_rank_ic, out));
  return 0;
}

int inspect(const Common& common, const std::string& path) {
  apply_common(common, ff::RuntimeOptions());
  const auto bundle = ff::io::read_bundle(path);
  const auto model = bundle.build_model();
  std::int64_t parameters = model->parameter_count();
  const ff::Json document{{"manifest", bundle.manifest},
                          {"model", bundle.config.at("model")},
                          {"modalities", bundle.config.at("modalities")},
                          {"parameters", parameters},
                          {"entities", bundle.entities.size()},
                          {"metrics", {{"valid", bundle.metrics.value("valid", ff::Json())},
                                       {"test", bundle.metrics.value("test", ff::Json())}}}};
  const auto& m = bundle.manifest;
  std::string text = fmt::format(
      "bundle {}\n  finfuse {} (LibTorch {}), revision {}, created {}, trained {:.1f} s, seed {}\n"
      "  modalities: {}\n  fusion: {}\n  heads: {}\n  parameters: {}\n  entities: {}\n",
      path, m.value("finfuse_version", "?"), m.value("libtorch_version", "?"), m.value("source_revision", "?"),
      m.value("created", "?"), m.value("training_seconds", 0.0), m.value("seed", 0), fmt::join(model->modalities(), ", "),
      model->fusion().options_json().value("type", "?"), fmt::join(model->head_names(), ", "), parameters,
      bundle.entities.size());
  for (const char* part : {"valid", "test"}) {
    if (bundle.metrics.contains(part) && bundle.metrics.at(part).is_object()) {
      text += fmt::format("  {}:\n", part);
      for (const auto& [k, v] : bundle.metrics.at(part).items()) {
        text += fmt::format("    {}: {}\n", k, v.dump());
      }
    }
  }
  report(common, document, text);
  return 0;
}

int list_options(const Common& common, const std::vector<std::string>& families, bool markdown) {
  ff::Json document = ff::Json::object();
  std::string text;
  for (const auto& family : families) {
    document[family] = ff::cli::describe_family(family);
    text += markdown ? ff::cli::family_markdown(family) : ff::cli::family_text(family);
  }
  report(common, document, text);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{fmt::format("finfuse {}: multimodal deep learning on financial data", ff::version())};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("finfuse {} (LibTorch {})", ff::version(), TORCH_VERSION));
  Common common;
  const auto add_common = [&](CLI::App* command) {
    command->add_option("--format", common.format, "output: text or json")->check(CLI::IsMember({"text", "json"}));
    command->add_option("--log-level", common.log_level, "trace, debug, info, warn, error, off");
    command->add_flag("--quiet,-q", common.quiet, "warnings and errors only");
  };
  std::string config, out, bundle, input, data, device = "auto", predictions, head, task, metric_list;
  std::string report_path = "report.html";
  std::string tensorboard;
  bool resume = false;
  double top = 0.2, cost_bps = 10.0, periods = 252.0;
  bool long_only = false;

  auto* train_cmd = app.add_subcommand("train", "train a model from a run configuration and write its bundle");
  train_cmd->add_option("--config,-c", config, "run configuration (JSON)")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("--out,-o", out, "output folder (bundle, metrics, history, checkpoints)")->required();
  train_cmd->add_flag("--resume", resume, "continue from the newest checkpoint in the output folder");
  train_cmd->add_option("--tensorboard", tensorboard,
                        "write TensorBoard event files under this folder (a sub-folder per seed; overrides "
                        "tracking.tensorboard)");
  std::string cache_dir;
  train_cmd->add_option("--cache-dir", cache_dir,
                        "the dataset cache's folder (default: OUT/cache); runs on the same data that name one folder "
                        "build the dataset once and read the same file");
  add_common(train_cmd);

  auto* pretrain_cmd = app.add_subcommand("pretrain", "pre-train a BERT-style text encoder on a corpus (masked tokens)");
  pretrain_cmd->add_option("--config,-c", config, "pre-training options (JSON)")->required()->check(CLI::ExistingFile);
  pretrain_cmd->add_option("--out,-o", out, "output folder: vocab.txt, encoder.pt, pretrain.json, use.json")->required();
  add_common(pretrain_cmd);

  std::string search;
  bool search_only = false;
  auto* tune_cmd = app.add_subcommand(
      "tune", "search hyper-parameters on the validation part, then train the best configuration and test it once");
  tune_cmd->add_option("--config,-c", config, "run configuration (JSON)")->required()->check(CLI::ExistingFile);
  tune_cmd->add_option("--search,-s", search, "the search (JSON: parameters by JSON pointer, search, trials, halving)")
      ->required()
      ->check(CLI::ExistingFile);
  tune_cmd->add_option("--out,-o", out, "output folder: tune.json, report.html, best_config.json, trials/, best/")
      ->required();
  tune_cmd->add_flag("--search-only", search_only, "stop after the search: no final training, no test scores");
  add_common(tune_cmd);

  auto* evaluate_cmd = app.add_subcommand("evaluate", "score a bundle on labelled data");
  evaluate_cmd->add_option("--bundle,-b", bundle, "bundle folder or archive")->required();
  evaluate_cmd->add_option("--input,-i", input, "a new main input file (prices CSV, or the samples' table)");
  evaluate_cmd->add_option("--data,-d", data, "a data configuration (JSON) instead of the bundle's");
  evaluate_cmd->add_option("--device", device, "auto, cpu, cuda, cuda:N");
  evaluate_cmd->add_option("--report", report_path, "the HTML report to write (empty: none)")->capture_default_str();
  add_common(evaluate_cmd);

  auto* predict_cmd = app.add_subcommand("predict", "predict new data with a bundle and write a CSV");
  predict_cmd->add_option("--bundle,-b", bundle, "bundle folder or archive")->required();
  predict_cmd->add_option("--input,-i", input, "a new main input file (prices CSV, or the samples' table)");
  predict_cmd->add_option("--data,-d", data, "a data configuration (JSON) instead of the bundle's");
  predict_cmd->add_option("--out,-o", out, "predictions CSV")->required();
  predict_cmd->add_option("--device", device, "auto, cpu, cuda, cuda:N");
  add_common(predict_cmd);

  auto* walk_cmd = app.add_subcommand("walk-forward", "train and test window by window (walk_forward splits)");
  walk_cmd->add_option("--config,-c", config, "run configuration (JSON)")->required()->check(CLI::ExistingFile);
  walk_cmd->add_option("--out,-o", out, "output folder")->required();
  walk_cmd->add_option("--tensorboard", tensorboard,
                       "write TensorBoard event files under this folder (seed-<n>/fold-<kkk>; overrides "
                       "tracking.tensorboard)");
  add_common(walk_cmd);

  auto* backtest_cmd = app.add_subcommand("backtest", "long-short backtest of a predictions CSV");
  backtest_cmd->add_option("--predictions,-p", predictions, "predictions CSV (as predict writes)")->required()->check(CLI::ExistingFile);
  backtest_cmd->add_option("--head", head, "the head whose scores rank (default: the first)");
  backtest_cmd->add_option("--top", top, "names per leg: a count, or a fraction below 1");
  backtest_cmd->add_option("--cost-bps", cost_bps, "cost per unit of turnover, in basis points");
  backtest_cmd->add_option("--periods-per-year", periods, "periods per year (252 / horizon)");
  backtest_cmd->add_flag("--long-only", long_only, "hold the long leg only");
  add_common(backtest_cmd);

  auto* metrics_cmd = app.add_subcommand("metrics", "score a predictions CSV");
  metrics_cmd->add_option("--predictions,-p", predictions, "predictions CSV (as predict writes)")->required()->check(CLI::ExistingFile);
  metrics_cmd->add_option("--task", task, "classification, regression or ranking (default: from the columns)")
      ->check(CLI::IsMember({"classification", "regression", "ranking"}));
  metrics_cmd->add_option("--head", head, "the head to score (default: the first)");
  metrics_cmd->add_option("--metrics", metric_list, "comma-separated metric names (default: the task's)");
  add_common(metrics_cmd);

  auto* data_cmd = app.add_subcommand("data", "assemble the dataset without training and summarise it");
  data_cmd->add_option("--config,-c", config, "run configuration (JSON)")->required()->check(CLI::ExistingFile);
  data_cmd->add_option("--cache-dir", cache_dir,
                       "build the dataset file in this folder (or reopen it there when its inputs are unchanged), the "
                       "file `finfuse train --cache-dir` then reads");
  add_common(data_cmd);

  std::string universe_config;
  std::int64_t universe_stocks = 0, universe_minute_days = -1;
  double universe_years = 0.0;
  std::uint64_t universe_seed = 0;
  auto* universe_cmd = app.add_subcommand(
      "universe", "write a synthetic equity universe with a planted text signal (prices, texts, graph, minute bars)");
  universe_cmd->add_option("--out,-o", out, "output folder")->required();
  universe_cmd->add_option("--config,-c", universe_config, "generator options (JSON; docs/data.md)")
      ->check(CLI::ExistingFile);
  universe_cmd->add_option("--stocks", universe_stocks, "the number of stocks (default 500)");
  universe_cmd->add_option("--years", universe_years, "the span in years (default 10)");
  universe_cmd->add_option("--minute-days", universe_minute_days, "minute bars for the last this many sessions");
  universe_cmd->add_option("--seed", universe_seed, "the random seed");
  add_common(universe_cmd);

  auto* inspect_cmd = app.add_subcommand("inspect", "summarise a bundle: model, data, metrics, manifest");
  inspect_cmd->add_option("--bundle,-b", bundle, "bundle folder or archive")->required();
  add_common(inspect_cmd);

  std::vector<std::string> families;
  bool markdown = false;
  auto* options_cmd = app.add_subcommand(
      "options", "list the registered components of each family with their options (type, default, allowed values)");
  options_cmd->add_option("family", families, "families to list (default: all): " +
                                                  fmt::format("{}", fmt::join(ff::cli::option_families(), ", ")));
  options_cmd->add_flag("--markdown", markdown, "Markdown tables, as in docs/config-reference.md");
  add_common(options_cmd);

  ff::cli::LaunchOptions launch_options;
  std::vector<std::string> launch_command;
  auto* launch_cmd = app.add_subcommand(
      "launch", "run a command as every local rank of a distributed job (torchrun's environment variables)");
  launch_cmd->add_option("--nproc", launch_options.nproc, "processes on this machine")->capture_default_str();
  launch_cmd->add_option("--nnodes", launch_options.nnodes, "machines in the job")->capture_default_str();
  launch_cmd->add_option("--node-rank", launch_options.node_rank, "this machine's index (0: the one with rank 0)")
      ->capture_default_str();
  launch_cmd->add_option("--master-addr", launch_options.master_addr, "host of rank 0")->capture_default_str();
  launch_cmd->add_option("--master-port", launch_options.master_port,
                         "rendezvous port (0: a free one; required with several machines)")
      ->capture_default_str();
  launch_cmd->add_option("--grace", launch_options.grace_seconds,
                         "seconds the other ranks get to end by themselves after one fails")
      ->capture_default_str();
  launch_cmd->add_option("command", launch_command, "the program and its arguments, after --")->required();
  add_common(launch_cmd);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (launch_cmd->parsed()) {
      apply_common(common, ff::RuntimeOptions().device("cpu"));
      return ff::cli::launch(launch_options, launch_command);
    }
    // Training commands stop at the next step on SIGTERM or SIGINT, write a checkpoint and exit with 128 + the signal.
    std::optional<ff::training::StopOnSignal> stop_on_signal;
    if (train_cmd->parsed() || tune_cmd->parsed() || walk_cmd->parsed()) {
      stop_on_signal.emplace();
    }
    if (train_cmd->parsed()) {
      return train(common, config, out, resume, tensorboard, cache_dir);
    }
    if (pretrain_cmd->parsed()) {
      return pretrain(common, config, out);
    }
    if (tune_cmd->parsed()) {
      return tune(common, config, search, out, search_only);
    }
    if (evaluate_cmd->parsed()) {
      return evaluate(common, bundle, input, data, device, report_path);
    }
    if (predict_cmd->parsed()) {
      return predict(common, bundle, input, data, out, device);
    }
    if (walk_cmd->parsed()) {
      return walk_forward(common, config, out, tensorboard);
    }
    if (backtest_cmd->parsed()) {
      return backtest(common, predictions, head,
                      ff::Json{{"top", top}, {"cost_bps", cost_bps}, {"periods_per_year", periods}, {"long_only", long_only}});
    }
    if (metrics_cmd->parsed()) {
      std::vector<std::string> names;
      if (!metric_list.empty()) {
        names = CLI::detail::split(metric_list, ',');
      }
      return metrics(common, predictions, head, task, names);
    }
    if (data_cmd->parsed()) {
      return data_summary(common, config, cache_dir);
    }
    if (universe_cmd->parsed()) {
      ff::Json overrides = ff::Json::object();
      if (universe_cmd->count("--stocks") > 0) {
        overrides["stocks"] = universe_stocks;
      }
      if (universe_cmd->count("--years") > 0) {
        overrides["years"] = universe_years;
      }
      if (universe_cmd->count("--minute-days") > 0) {
        overrides["minute_days"] = universe_minute_days;
      }
      if (universe_cmd->count("--seed") > 0) {
        overrides["seed"] = universe_seed;
      }
      return universe(common, universe_config, overrides, out);
    }
    if (inspect_cmd->parsed()) {
      return inspect(common, bundle);
    }
    if (options_cmd->parsed()) {
      return list_options(common, families.empty() ? ff::cli::option_families() : families, markdown);
    }
  } catch (const ff::training::StoppedBySignal& e) {
    std::fprintf(stderr, "stopped: %s\n", e.what());
    if (train_cmd->parsed() && !e.checkpoint().empty()) {
      std::fprintf(stderr, "hint: the same command with --resume continues from there\n");
    }
    return 128 + e.signal();
  } catch (const ff::ConfigError& e) {
    std::fprintf(stderr, "error: %s\nhint: see docs/config-reference.md for every key\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\nhint: run with --log-level debug for details\n", e.what());
    return 1;
  }
  return 2;
}
