// Example 3: chart-image CNN on the S&P 500. Each seed runs the whole walk-forward; the out-of-sample predictions
// of all windows are scored together (accuracy, MCC, ROC-AUC, market-timing backtest against buy and hold) and the
// seeds are summarised as mean +- std (training::WalkForwardExperiment). Report, walk_forward.json and the
// predictions in --out.
#include "common/example.h"


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
    if (options.quick) {  // the last eight years only
      run.data.assembly.start = "2012-01-01";
    }
    const auto device = ff::examples::prepare(run, options);
    // Market timing against buy and hold: long the index for the 5 days after an "up" call, out otherwise.
    ff::evaluation::BacktestOptions timing;
    timing.kind = "timing";
    timing.periods_per_year = 50.4;
    timing.cost_bps = 2;
    const auto experiment_options =
        ff::training::ExperimentOptions(options.out)
            .cache_dir(options.out / "cache")
            .title("finfuse example: chart-image CNN on the S&P 500")
            .headline({"accuracy", "mcc", "roc_auc", "backtest.annual_return", "backtest.sharpe",
                       "backtest.max_drawdown", "backtest.benchmark_annual_return"})
            .backtest(timing);
    const auto result = ff::training::WalkForwardExperiment(std::move(run), experiment_options).run(device);
    std::cout << "\nchart-image CNN on the S&P 500, out of sample:\n" << result.summary;
    return 0;
  });
}
