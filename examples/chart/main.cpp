// Example 3: chart-image CNN on the S&P 500. Each seed runs the whole walk-forward; the out-of-sample predictions
// of all windows are scored together (accuracy, MCC, ROC-AUC, market-timing backtest against buy and hold) and the
// seeds are summarised as mean +- std. Report, results and the last window's model in --out.
#include "common/example.h"

#include <finfuse/data/time.h>

namespace ff = finfuse;

int main(int argc, char** argv) {
  ff::examples::Options options;
  options.config = FINFUSE_EXAMPLE_DIR "/chart/chart.json";
  options.out = "chart-run";
  int code = 0;
  if (!ff::examples::parse(argc, argv, "finfuse example: chart-image CNN on the S&P 500", options, code)) {
    return code;
  }
  return ff::examples::guarded([&] {
    // The S&P 500 daily series (vega-datasets' sp500-2000.csv) from a data folder.
    const auto dir = ff::examples::locate_data(options, {"market/sp500-2000.csv"});
    if (!dir) {
      return ff::examples::data_missing(options, "The chart-image example", {"sp500-2000.csv"},
                                        "Put market/sp500-2000.csv (the S&P 500 daily close, 2000-2020, as the "
                                        "vega-datasets package ships it) under --data-dir.");
    }
    const std::filesystem::path csv = *dir / "market" / "sp500-2000.csv";
    ::setenv("FINFUSE_SP500_CSV", csv.c_str(), 1);
    auto run = ff::training::RunConfig::load(options.config);
    std::vector<std::uint64_t> seeds = run.seeds;
    if (options.seeds > 0) {
      seeds.clear();
      for (std::int64_t s = 1; s <= options.seeds; ++s) {
        seeds.push_back(static_cast<std::uint64_t>(s));
      }
    }
    if (options.epochs > 0) {
      run.training.epochs(options.epochs);
    }
    if (options.quick) {  // one seed, one epoch, the last eight years only
      seeds.resize(1);
      run.training.epochs(1);
      run.data.assembly.start = "2012-01-01";
    }
    auto runtime = run.runtime;
    runtime.device(options.device);
    const auto resolved = ff::apply_runtime(runtime);
    std::filesystem::create_directories(options.out);

    std::vector<std::map<std::string, double>> overall;
    ff::training::WalkForwardResult first;
    for (const auto seed : seeds) {
      auto training = run.training;
      training.out_dir((options.out / "runs" / fmt::format("seed-{}", seed)).string());
      training.progress("log");
      ff::logger()->info("chart example: seed {} ({} of {})", seed, overall.size() + 1, seeds.size());
      auto result = ff::training::run_walk_forward(run.model, training, run.data, resolved.device, seed,
                                                   options.out / "cache");
      overall.push_back(result.overall);
      if (overall.size() == 1) {
        first = std::move(result);
      }
    }
    const auto summary = ff::training::Aggregate::of(overall);
    ff::Json results{{"title", "chart-image CNN on the S&P 500"},
                     {"seeds", seeds},
                     {"overall_per_seed", overall},
                     {"summary", summary.to_json()},
                     {"first_seed", first.to_json()},
                     {"quick", options.quick}};
    ff::write_file_atomically(options.out / "results.json", results.dump(2));

    const std::vector<std::string> headline = {"accuracy", "mcc", "roc_auc", "backtest.annual_return",
                                               "backtest.sharpe", "backtest.max_drawdown",
                                               "backtest.benchmark_annual_return"};
    ff::evaluation::HtmlReport html("finfuse example: chart-image CNN on the S&P 500");
    html.add_paragraph(fmt::format(
        "{} seed(s) of a walk-forward over {} windows; figures are the out-of-sample predictions of all windows "
        "together, mean +- standard deviation over the seeds. Buy and hold is the index itself over the same "
        "5-day periods.",
        seeds.size(), first.windows.size()));
    std::vector<std::vector<std::string>> rows;
    for (const auto& key : headline) {
      rows.push_back({key, ff::examples::mean_std(summary, key)});
    }
    html.add_table("Out of sample, all windows", {"metric", "mean +- std"}, rows);
    std::vector<std::vector<std::string>> windows;
    for (const auto& w : first.windows) {
      const auto value = [&](const std::string& k) {
        return w.test.count(k) ? fmt::format("{:.4f}", w.test.at(k)) : std::string("-");
      };
      windows.push_back({std::to_string(w.fold + 1), w.train_start + " .. " + w.train_end,
                         w.test_start + " .. " + w.test_end, std::to_string(w.test_samples), value("accuracy"),
                         value("backtest.annual_return"), value("backtest.benchmark_annual_return")});
    }
    html.add_table(fmt::format("Windows (seed {})", seeds.front()),
                   {"fold", "train", "test", "samples", "accuracy", "timing annual return", "buy and hold"}, windows);
    ff::evaluation::BacktestOptions timing;
    timing.kind = "timing";
    timing.periods_per_year = 50.4;
    timing.cost_bps = 2;
    ff::evaluation::add_prediction_plots(html, fmt::format("direction, seed {}", seeds.front()), first.predictions,
                                         timing);
    const auto report = options.out / "report.html";
    html.write(report);

    std::cout << fmt::format("\nchart-image CNN on the S&P 500 -- {} seed(s), {} windows, out of sample:\n",
                             seeds.size(), first.windows.size());
    for (const auto& key : headline) {
      std::cout << fmt::format("  {:<34} {}\n", key, ff::examples::mean_std(summary, key));
    }
    std::cout << fmt::format("report: {}\n", report.string());
    return 0;
  });
}
