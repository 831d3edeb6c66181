// What the example programs share: finding the real data (or saying where to get it) and running a configuration as a
// training::Experiment (several seeds, model selection on the validation split only, bundle, metrics.json,
// report.html) under the command-line options every example has.
#pragma once

#include <finfuse/core/file.h>
#include <finfuse/core/logging.h>
#include <finfuse/core/runtime.h>
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
using Reference = training::PublishedResult;

/// Every seed's figures, the best-validation run (the bundle's) and the paths written.
using ExampleResult = training::ExperimentResult;

/// Applies the command-line options to a run: --seeds N (seeds 1..N), --epochs, --quick (one seed, at most one epoch),
/// --device; applies the runtime settings and returns the device to train on.
inline c10::Device prepare(training::RunConfig& run, const Options& options) {
  if (options.epochs > 0) {
    run.training.epochs(options.epochs);
  }
  if (options.seeds > 0) {
    run.seeds.clear();
    for (std::int64_t s = 1; s <= options.seeds; ++s) {
      run.seeds.push_back(static_cast<std::uint64_t>(s));
    }
  }
  if (options.quick) {
    run.seeds.resize(1);
    run.training.epochs(std::min<std::int64_t>(run.training.epochs(), 1));
  }
  run.training.progress("log");
  auto runtime = run.runtime;
  runtime.device(options.device);
  return apply_runtime(runtime).device;
}

/// Trains every seed (model selection on the validation split only), keeps the seed with the best validation value
/// of the monitor for the bundle and the plots, and writes out/bundle, out/metrics.json, out/report.html and
/// out/test_predictions.csv (training::Experiment).
inline ExampleResult run(training::RunConfig run, const Options& options, const std::string& title,
                         const std::vector<std::string>& headline, const std::vector<Reference>& references = {}) {
  const auto device = prepare(run, options);
  const auto seeds = run.seeds.size();
  const auto experiment_options = training::ExperimentOptions(options.out)
                                      .cache_dir(options.cache_dir)
                                      .title(title)
                                      .headline(headline)
                                      .references(references);
  auto result = training::Experiment(std::move(run), experiment_options).run(device);
  std::cout << fmt::format("\n{} -- {} seed(s)\n{}", title, seeds, result.summary);
  return result;
}

}  // namespace finfuse::examples
