// What the example programs share: finding the real data (or saying where to get it), running a configuration over
// several seeds with model selection on the validation split only, and writing the bundle, results.json and
// report.html of the run.
#pragma once

#include <finfuse/core/file.h>
#include <finfuse/core/logging.h>
#include <finfuse/core/runtime.h>
#include <finfuse/evaluation/report.h>
#include <finfuse/io/bundle.h>
#include <finfuse/training/experiment.h>
#include <finfuse/training/run_config.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::examples {

struct Options {
  std::filesystem::path config;
  std::filesystem::path out;
  std::string data_dir;
  /// A short run on a slice, for the tests that keep the examples working.
  bool quick = false;
  std::int64_t seeds = 0;
  std::int64_t epochs = 0;
  std::string device = "auto";
  /// Where built datasets are cached (empty: <out>/cache). A suite shares one among its configurations, which
  /// reuse each other's dataset when their data sections agree.
  std::filesystem::path cache_dir;
};

/// Adds the options every example has to `app`.
inline void add_common_options(CLI::App& app, Options& options) {
  app.add_option("--config,-c", options.config, "run configuration (JSON)")->capture_default_str();
  app.add_option("--out,-o", options.out, "output folder")->capture_default_str();
  app.add_option("--data-dir", options.data_dir,
                 "folder holding the data sets (only this one; default: $FINFUSE_DATA_DIR, then ../shared/data)");
  app.add_option("--seeds", options.seeds, "number of seeds (default: the configuration's)");
  app.add_option("--epochs", options.epochs, "epochs (default: the configuration's)");
  app.add_option("--device", options.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  app.add_flag("--quick", options.quick, "a short run on a slice of the data (for tests)");
}

/// Parses the command line; returns false (with `code` set) when the program should exit (--help, bad usage).
inline bool parse(CLI::App& app, int argc, char** argv, int& code) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    code = app.exit(e) == 0 ? 0 : 2;
    return false;
  }
  return true;
}

/// An example with the common options only.
inline bool parse(int argc, char** argv, const std::string& description, Options& options, int& code) {
  CLI::App app{description};
  add_common_options(app, options);
  return parse(app, argc, argv, code);
}

/// The data folder holding every file in `required` (relative paths): --data-dir when given (and only it), otherwise
/// $FINFUSE_DATA_DIR, then ../shared/data next to the source tree. FINFUSE_DATA_DIR is set to it for the
/// configuration's `${...}` paths.
inline std::optional<std::filesystem::path> locate_data(const Options& options,
                                                        const std::vector<std::string>& required) {
  std::vector<std::filesystem::path> candidates;
  if (!options.data_dir.empty()) {
    candidates.emplace_back(options.data_dir);  // a folder given on the command line is the only one looked at
  } else {
    if (const char* env = std::getenv("FINFUSE_DATA_DIR")) {
      candidates.emplace_back(env);
    }
    candidates.emplace_back(std::filesystem::path(FINFUSE_SOURCE_DIR) / ".." / "shared" / "data");
    candidates.emplace_back(std::filesystem::current_path() / ".." / "shared" / "data");
  }
  for (const auto& dir : candidates) {
    bool all = true;
    for (const auto& file : required) {
      all = all && std::filesystem::exists(dir / file);
    }
    if (all) {
      const auto found = std::filesystem::canonical(dir);
      ::setenv("FINFUSE_DATA_DIR", found.c_str(), 1);
      return found;
    }
  }
  return std::nullopt;
}

/// Says which data are missing, where they were looked for and where to get them; the program then exits with 0.
inline int data_missing(const Options& options, const std::string& what, const std::vector<std::string>& files,
                        const std::string& how) {
  const std::string where = options.data_dir.empty() ? std::string("$FINFUSE_DATA_DIR or ../shared/data")
                                                     : "--data-dir " + options.data_dir;
  std::cout << fmt::format("{} needs {} (not found under {}).\n{}\n", what, fmt::join(files, ", "), where, how);
  return 0;
}

/// Runs an example's body and turns errors into the exit codes of the finfuse tool: 2 for a configuration error,
/// 1 for anything else, each with an "error:" line.
inline int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

/// A published result to print next to ours.
struct Reference {
  std::string name;
  std::map<std::string, double> test;
};

struct ExampleResult {
  /// Every seed's figures, and the best-validation run (the bundle's).
  training::MultiSeedResult seeds;
  std::filesystem::path report;
};

inline std::string mean_std(const training::Aggregate& a, const std::string& key, double scale = 1.0) {
  if (a.mean.count(key) == 0) {
    return "-";
  }
  return fmt::format("{:.4f} +- {:.4f}", a.mean.at(key) * scale, a.std.at(key) * scale);
}

/// Trains every seed (model selection on the validation split only), keeps the seed with the best validation value
/// of the monitor for the bundle and the plots, and writes out/bundle, out/results.json and out/report.html.
inline ExampleResult run(training::RunConfig run, const Options& options, const std::string& title,
                         const std::vector<std::string>& headline, const std::vector<Reference>& references = {}) {
  if (options.epochs > 0) {
    run.training.epochs(options.epochs);
  }
  std::vector<std::uint64_t> seeds = run.seeds;
  if (options.seeds > 0) {
    seeds.clear();
    for (std::int64_t s = 1; s <= options.seeds; ++s) {
      seeds.push_back(static_cast<std::uint64_t>(s));
    }
  }
  if (options.quick) {
    seeds.resize(1);
    run.training.epochs(std::min<std::int64_t>(run.training.epochs(), 1));
  }
  auto runtime = run.runtime;
  runtime.device(options.device);
  const auto resolved = apply_runtime(runtime);
  std::filesystem::create_directories(options.out);
  const auto pipeline =
      data::DataPipeline::build(run.data, options.cache_dir.empty() ? options.out / "cache" : options.cache_dir);
  auto training_options = run.training;
  training_options.out_dir((options.out / "runs").string());
  training_options.progress("log");
  ExampleResult result;
  result.seeds = training::run_seeds(run.model, training_options, pipeline, resolved.device, seeds);

  auto source = io::bundle_source(result.seeds.best.model, pipeline);
  source.training = run.training.to_json();
  source.runtime = run.runtime.to_json();
  source.metrics = result.seeds.to_json();
  source.seed = result.seeds.best.seed;
  source.deterministic = run.runtime.deterministic();
  const auto manifest = io::write_bundle(options.out / "bundle", source);
  Json results = result.seeds.to_json();
  results["title"] = title;
  results["monitor"] = run.training.monitor();
  results["bundle_seed"] = result.seeds.best.seed;
  results["data"] = pipeline.summary();
  results["quick"] = options.quick;
  write_file_atomically(options.out / "results.json", results.dump(2));

  evaluation::HtmlReport html(title);
  html.add_paragraph(fmt::format("{} seed(s); model selection on the validation split by {} (best epoch per seed); "
                                 "test figures are mean +- standard deviation over the seeds.",
                                 seeds.size(), run.training.monitor()));
  std::vector<std::vector<std::string>> rows;
  for (const auto& key : headline) {
    rows.push_back({key, mean_std(result.seeds.valid_summary, key), mean_std(result.seeds.test_summary, key)});
  }
  html.add_table("Results over seeds", {"metric", "validation", "test"}, rows);
  std::vector<std::vector<std::string>> per_seed;
  for (std::size_t i = 0; i < result.seeds.seeds.size(); ++i) {
    std::vector<std::string> row = {std::to_string(result.seeds.seeds[i]),
                                    std::to_string(result.seeds.best_epochs[i] + 1)};
    for (const auto& key : headline) {
      const auto it = result.seeds.test[i].find(key);
      row.push_back(it == result.seeds.test[i].end() ? "-" : fmt::format("{:.4f}", it->second));
    }
    per_seed.push_back(row);
  }
  std::vector<std::string> columns = {"seed", "best epoch"};
  for (const auto& key : headline) {
    columns.push_back("test " + key);
  }
  html.add_table("Per seed", columns, per_seed);
  if (!references.empty()) {
    std::vector<std::vector<std::string>> ref_rows;
    std::vector<std::string> ref_columns = {"model"};
    for (const auto& key : headline) {
      ref_columns.push_back("test " + key);
    }
    std::vector<std::string> ours = {"finfuse (this run, mean over seeds)"};
    for (const auto& key : headline) {
      ours.push_back(mean_std(result.seeds.test_summary, key));
    }
    ref_rows.push_back(ours);
    for (const auto& r : references) {
      std::vector<std::string> row = {r.name};
      for (const auto& key : headline) {
        row.push_back(r.test.count(key) ? fmt::format("{:.4f}", r.test.at(key)) : "-");
      }
      ref_rows.push_back(row);
    }
    html.add_table("Published results on the same protocol", ref_columns, ref_rows);
  }
  std::vector<std::map<std::string, double>> history;
  for (const auto& r : result.seeds.best.fit.history) {
    history.push_back(r.values);
  }
  html.add_heading(fmt::format("Seed {} (the bundle's)", result.seeds.best.seed));
  evaluation::add_learning_curves(html, history, run.training.monitor());
  for (const auto& [head, predictions] : result.seeds.best.test.predictions) {
    evaluation::add_prediction_plots(html, head + " (test)", predictions);
  }
  html.add_heading("Data");
  html.add_json("data summary", pipeline.summary());
  html.add_heading("Manifest");
  html.add_json("manifest.json", manifest);
  result.report = options.out / "report.html";
  html.write(result.report);

  std::cout << fmt::format("\n{} -- {} seed(s), test (mean +- std):\n", title, seeds.size());
  for (const auto& key : headline) {
    std::cout << fmt::format("  {:<12} {}\n", key, mean_std(result.seeds.test_summary, key));
  }
  for (const auto& r : references) {
    std::cout << fmt::format("  published: {}:", r.name);
    for (const auto& [k, v] : r.test) {
      std::cout << fmt::format(" {} {:.4f}", k, v);
    }
    std::cout << "\n";
  }
  std::cout << fmt::format("report: {}\nbundle: {}\n", result.report.string(), (options.out / "bundle").string());
  return result;
}

}  // namespace finfuse::examples
