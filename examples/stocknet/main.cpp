// Example 1: market prediction on StockNet, the paper's protocol. Every configuration of variants.json (prices
// only, Adv-ALSTM's attentive LSTM with and without adversarial training, tweets only, prices + tweets with concat,
// gated, attention and graph fusion over sector and correlation graphs, chart images; and, when named, a transformer
// across the day's stocks with the S&P 500 as market context) runs over the seeds with model selection on the dev
// split only; the comparison puts dev and test accuracy and MCC next to the published StockNet and Adv-ALSTM results.
// One folder per configuration (bundle, metrics.json, report.html) and the comparison (results.json, report.html) in
// --out.
#include "common/suite.h"

namespace ff = finfuse;

int main(int argc, char** argv) {
  ff::examples::Options options;
  options.config = FINFUSE_EXAMPLE_DIR "/stocknet/stocknet.json";
  options.out = "stocknet-run";
  ff::examples::SuiteOptions suite_options;
  suite_options.variants_file = FINFUSE_EXAMPLE_DIR "/stocknet/variants.json";
  const char* description =
      "finfuse example: market prediction on StockNet (prices, tweets, sector and correlation graphs, charts)";
  return ff::examples::suite_main(argc, argv, description, options, suite_options, [] {
    ff::examples::Suite suite;
    suite.title = "StockNet market prediction";
    suite.protocol =
        "The StockNet protocol (Xu & Cohen 2018): 88 stocks, target days 2014-01-01 .. 2015-12-31; a move of the "
        "adjusted close from the previous trading day <= -0.5% is down, > 0.55% up, in between dropped; inputs are "
        "the 5 trading days before the target day (prices up to the day before, tweets published before its "
        "market opens); train < 2015-08-01 <= dev (validation) < 2015-10-01 <= test < 2016-01-01.";
    suite.headline = {"accuracy", "mcc"};
    suite.select_by = "mcc";
    suite.references = {{"StockNet (Xu & Cohen 2018), best variant", {{"accuracy", 0.5823}, {"mcc", 0.0808}}},
                        {"Adv-ALSTM (Feng et al. 2019), prices", {{"accuracy", 0.572}, {"mcc", 0.148}}}};
    suite.quick_slice = [](ff::training::RunConfig& run) {
      // Train on July 2015, validate on August-September, test on October.
      run.data.assembly.start = "2015-07-01";
      run.data.assembly.end = "2015-10-31";
    };
    suite.data_files = {"stocknet/prices.csv", "stocknet/tweets.jsonl", "stocknet/StockTable", "market/sp500-2000.csv"};
    suite.data_hint =
        "Get the StockNet dataset (Xu & Cohen, ACL 2018; github.com/yumoxu/stocknet-dataset, MIT): the prices as one "
        "CSV symbol,date,open,high,low,close,adj_close,volume, the preprocessed tweets as JSON Lines "
        "{\"symbol\", \"date\", \"tweets\": [{\"created_at\", \"user\", \"text\"}]}, and StockTable, under "
        "<data-dir>/stocknet/; and the S&P 500 index's daily bars (date,open,high,low,close,adjclose,volume, e.g. "
        "vega-datasets' sp500-2000.csv) as <data-dir>/market/sp500-2000.csv, the market context of the cross-section "
        "configurations.";
    return suite;
  });
}
