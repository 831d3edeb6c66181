// A suite of configurations on one data set: a base run configuration and named variants of it (JSON merge patches,
// RFC 7396, in a variants file), each run over the seeds by examples::run, then compared in one table and report.
// The configuration to retain is chosen on the validation split only.
#pragma once

#include "common/example.h"

#include <finfuse/core/suggest.h>
#include <finfuse/evaluation/report.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iterator>
#include <cstdlib>
#include <sstream>

namespace finfuse::examples {

struct Variant {
  std::string name;
  std::string description;
  Json patch;
  /// Whether a run without --variants includes it ("default": false keeps longer studies out of the default run).
  bool by_default = true;
  /// Environment variables its configuration reads (e.g. FINFUSE_PRETRAINED, a pre-training's output folder):
  /// `--variants all` leaves it out, saying so, where one is unset; named, it is an error before anything runs.
  std::vector<std::string> needs;

  /// The first of `needs` that is unset or empty ("" when none is).
  std::string unset_need() const {
    for (const auto& name : needs) {
      const char* value = std::getenv(name.c_str());
      if (value == nullptr || *value == '\0') {
        return name;
      }
    }
    return "";
  }
};

/// Reads [{"name", "description", "patch"[, "default"][, "needs"]}, ...] (ConfigError at the JSON path).
inline std::vector<Variant> read_variants(const std::filesystem::path& path) {
  const auto document = Config::load(path);
  if (!document.is_array() || document.size() == 0) {
    document.fail("must be a non-empty list of {\"name\", \"description\", \"patch\"}");
  }
  std::vector<Variant> variants;
  for (std::size_t i = 0; i < document.size(); ++i) {
    const auto entry = document[i];
    Variant v;
    v.name = entry.get<std::string>("name");
    v.description = entry.get<std::string>("description");
    v.patch = entry.get<Json>("patch");
    v.by_default = entry.get<bool>("default", true);
    if (entry.contains("needs")) {
      v.needs = entry.get<std::vector<std::string>>("needs");
    }
    entry.reject_unknown_keys();
    for (const auto& other : variants) {
      if (other.name == v.name) {
        entry.fail_at("name", fmt::format("the configuration '{}' is defined twice", v.name));
      }
    }
    variants.push_back(std::move(v));
  }
  return variants;
}

/// The base document with a variant's patch applied.
inline Json apply_variant(const Json& base, const Variant& variant) {
  Json merged = base;
  merged.merge_patch(variant.patch);
  return merged;
}

struct Suite {
  std::string title;
  /// What the protocol is, for the report.
  std::string protocol;
  std::filesystem::path variants_file;
  /// Metrics in the comparison table (validation and test), e.g. {"accuracy", "mcc"}.
  std::vector<std::string> headline;
  /// The validation metric (mean over seeds, higher is better) that chooses the configuration to retain.
  std::string select_by;
  std::vector<Reference> references;
  /// The files (relative to the data folder) the suite reads, and where to get them.
  std::vector<std::string> data_files;
  std::string data_hint;
  /// Applied to every configuration under --quick (a slice of the data).
  std::function<void(training::RunConfig&)> quick_slice;
};

/// Adds --variants, --variants-file and --print-config to `app`.
struct SuiteOptions {
  std::string selected;
  std::string print_config;
  std::filesystem::path variants_file;

  void add_to(CLI::App& app) {
    app.add_option("--variants-file", variants_file, "the configurations, as patches of --config")
        ->capture_default_str();
    app.add_option("--variants", selected,
                   "comma-separated configurations to run, or all (default: those not marked \"default\": false, in "
                   "file order)");
    app.add_option("--print-config", print_config,
                   "print the whole run configuration of one configuration (for `finfuse train -c`) and exit");
  }
};

/// Runs the chosen configurations and writes out/<name>/ (bundle, metrics.json, report.html, test_predictions.csv) for each, and the
/// comparison in out/results.json and out/report.html. Returns the program's exit code.
inline int run_suite(const Suite& suite, const Options& options, const SuiteOptions& suite_options) {
  const auto variants = read_variants(suite_options.variants_file);
  std::vector<std::string> names;
  for (const auto& v : variants) {
    names.push_back(v.name);
  }
  const auto find = [&](const std::string& name, const std::string& option) {
    const auto it = std::find_if(variants.begin(), variants.end(), [&](const Variant& v) { return v.name == name; });
    if (it == variants.end()) {
      throw ConfigError(option, fmt::format("unknown configuration '{}'{}; {} has {}", name, did_you_mean(name, names),
                                            suite_options.variants_file.string(), quoted_list(names)));
    }
    return *it;
  };
  const auto base = Config::load(options.config).json();
  if (!suite_options.print_config.empty()) {
    std::cout << apply_variant(base, find(suite_options.print_config, "--print-config")).dump(2) << "\n";
    return 0;
  }
  std::vector<Variant> chosen;
  std::stringstream list(suite_options.selected);
  for (std::string name; std::getline(list, name, ',');) {
    if (name == "all") {
      for (const auto& v : variants) {
        if (const auto unset = v.unset_need(); !unset.empty()) {
          std::cout << fmt::format("left out: {} (it needs ${} set: {})\n", v.name, unset, v.description);
        } else {
          chosen.push_back(v);
        }
      }
    } else if (!name.empty()) {
      const auto& v = find(name, "--variants");
      if (const auto unset = v.unset_need(); !unset.empty()) {
        throw ConfigError("--variants", fmt::format("the configuration '{}' needs ${} set in the environment: {}",
                                                    v.name, unset, v.description));
      }
      chosen.push_back(v);
    }
  }
  if (chosen.empty()) {
    std::copy_if(variants.begin(), variants.end(), std::back_inserter(chosen), [](const Variant& v) { return v.by_default; });
  }
  if (!locate_data(options, suite.data_files)) {
    return data_missing(options, "The " + suite.title + " example", suite.data_files, suite.data_hint);
  }

  struct Outcome {
    Variant variant;
    ExampleResult result;
    double seconds = 0.0;
  };
  std::vector<Outcome> outcomes;
  // A configuration may name the suite's output folder as ${FINFUSE_SUITE_OUT} in its paths: a warm start from the
  // runs of a configuration before it (<out>/<name>/runs/seed-{seed}/best.pt).
  ::setenv("FINFUSE_SUITE_OUT", std::filesystem::absolute(options.out).string().c_str(), 1);
  for (const auto& variant : chosen) {
    auto root = Config::parse(apply_variant(base, variant).dump(),
                              fmt::format("{} (configuration '{}')", options.config.string(), variant.name));
    auto run_config =
        training::RunConfig::from_config(std::move(root), std::filesystem::absolute(options.config).parent_path());
    if (options.quick && suite.quick_slice) {
      suite.quick_slice(run_config);
    }
    auto variant_options = options;
    variant_options.out = options.out / variant.name;
    variant_options.cache_dir = options.out / "cache";
    logger()->info("{}: configuration '{}' ({} of {}): {}", suite.title, variant.name, outcomes.size() + 1,
                   chosen.size(), variant.description);
    const auto start = std::chrono::steady_clock::now();
    auto result = run(run_config, variant_options, suite.title + ", " + variant.name, suite.headline, suite.references);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    outcomes.push_back({variant, std::move(result), seconds});
  }

  // The configuration to retain, by the mean validation value only.
  const auto selection = [&](const Outcome& o) {
    const auto& mean = o.result.seeds.valid_summary.mean;
    const auto it = mean.find(suite.select_by);
    return it == mean.end() ? -std::numeric_limits<double>::infinity() : it->second;
  };
  std::size_t selected = 0;
  for (std::size_t i = 1; i < outcomes.size(); ++i) {
    if (selection(outcomes[i]) > selection(outcomes[selected])) {
      selected = i;
    }
  }

  std::vector<std::string> columns = {"configuration"};
  for (const auto& key : suite.headline) {
    columns.push_back("validation " + key);
  }
  for (const auto& key : suite.headline) {
    columns.push_back("test " + key);
  }
  columns.push_back("seconds");
  std::vector<std::vector<std::string>> rows;
  Json summary = Json::array();
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    const auto& s = o.result.seeds;
    std::vector<std::string> row = {o.variant.name + (i == selected ? " (selected on validation)" : "")};
    for (const auto& key : suite.headline) {
      row.push_back(s.valid_summary.mean_std(key));
    }
    for (const auto& key : suite.headline) {
      row.push_back(s.test_summary.mean_std(key));
    }
    row.push_back(fmt::format("{:.0f}", o.seconds));
    rows.push_back(std::move(row));
    summary.push_back({{"name", o.variant.name},
                       {"description", o.variant.description},
                       {"seconds", o.seconds},
                       {"seeds", s.seeds},
                       {"valid", s.valid_summary.to_json()},
                       {"test", s.test_summary.to_json()},
                       {"report", (std::filesystem::path(o.variant.name) / "report.html").string()}});
  }
  Json references = Json::object();
  for (const auto& r : suite.references) {
    std::vector<std::string> row = {"published: " + r.name};
    for (std::size_t k = 0; k < suite.headline.size(); ++k) {
      row.emplace_back("-");
    }
    for (const auto& key : suite.headline) {
      row.push_back(r.test.count(key) ? fmt::format("{:.4f}", r.test.at(key)) : "-");
    }
    row.emplace_back("-");
    rows.push_back(std::move(row));
    references[r.name] = r.test;
  }
  const std::size_t seeds = outcomes.front().result.seeds.seeds.size();
  Json results{{"title", suite.title},
               {"configurations", summary},
               {"selected_on_validation", outcomes[selected].variant.name},
               {"selected_by", "valid." + suite.select_by},
               {"references", references},
               {"quick", options.quick}};
  write_file_atomically(options.out / "results.json", results.dump(2));

  evaluation::HtmlReport html("finfuse example: " + suite.title);
  html.add_paragraph(suite.protocol);
  html.add_paragraph(fmt::format(
      "{} seed(s) per configuration, the epoch chosen on the validation split; mean +- standard deviation over the "
      "seeds. The configuration to retain is the one with the best mean validation {}; its test figures are the ones "
      "to compare with published results.",
      seeds, suite.select_by));
  html.add_table("Validation and test, per configuration", columns, rows);
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<std::string> labels;
  std::vector<double> test_values;
  for (const auto& o : outcomes) {
    links.emplace_back(o.variant.name + ": " + o.variant.description,
                       (std::filesystem::path(o.variant.name) / "report.html").string());
    labels.push_back(o.variant.name);
    const auto& mean = o.result.seeds.test_summary.mean;
    test_values.push_back(mean.count(suite.select_by) ? mean.at(suite.select_by) : 0.0);
  }
  html.add_links("Reports per configuration (learning curves, ROC, confusion matrix, data summary)", links);
  html.add_bar_chart(fmt::format("Test {} per configuration (mean over seeds)", suite.select_by), suite.select_by,
                     labels, test_values);
  const auto report = options.out / "report.html";
  html.write(report);

  std::size_t width = 14;
  for (const auto& row : rows) {
    width = std::max(width, row[0].size() + 2);
  }
  std::cout << fmt::format("\n{}, {} seed(s) per configuration (mean +- std):\n", suite.title, seeds);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    std::cout << (c == 0 ? fmt::format("  {:<{}}", columns[c], width) : fmt::format(" {:<20}", columns[c]));
  }
  std::cout << "\n";
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::cout << (c == 0 ? fmt::format("  {:<{}}", row[c], width) : fmt::format(" {:<20}", row[c]));
    }
    std::cout << "\n";
  }
  std::cout << fmt::format("report: {}\n", report.string());
  return 0;
}

/// The whole program of a suite example: the common and suite options (defaults from `options` and
/// `suite_options`), then run_suite on the suite `make_suite` describes. Returns the exit code.
inline int suite_main(int argc, char** argv, const std::string& description, Options options,
                      SuiteOptions suite_options, const std::function<Suite()>& make_suite) {
  CLI::App app{description};
  add_common_options(app, options);
  suite_options.add_to(app);
  int code = 0;
  if (!parse(app, argc, argv, code)) {
    return code;
  }
  return guarded([&] { return run_suite(make_suite(), options, suite_options); });
}

}  // namespace finfuse::examples
