// Example 2: credit risk on the Taiwan credit-card default data. Five seeds, model selection on the validation
// split, ROC-AUC, KS, Gini and calibration on the held-out test split; report, results and bundle in --out.
#include "common/example.h"

int main(int argc, char** argv) {
  finfuse::examples::Options options;
  options.config = FINFUSE_EXAMPLE_DIR "/credit/credit.json";
  options.out = "credit-run";
  int code = 0;
  if (!finfuse::examples::parse(argc, argv, "finfuse example: credit default (Taiwan credit-card clients)", options,
                                code)) {
    return code;
  }
  return finfuse::examples::guarded([&] {
    if (!finfuse::examples::locate_data(options, {"credit/taiwan_default.csv"})) {
      return finfuse::examples::data_missing(
          options, "The credit-risk example", {"credit/taiwan_default.csv"},
          "Get it from the UCI repository, \"default of credit card clients\" (Yeh & Lien 2009, CC BY 4.0): save the "
          "sheet as CSV with the label column named 'defaulted' under <data-dir>/credit/.");
    }
    const auto run = finfuse::training::RunConfig::load(options.config);
    finfuse::examples::run(run, options, "finfuse example: credit default",
                           {"roc_auc", "ks", "gini", "ece", "brier", "accuracy"});
    return 0;
  });
}
