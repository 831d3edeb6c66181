// Example 4: news sentiment on the Financial PhraseBank (sentences on which all annotators agreed; a Latin-1 file of
// "sentence@label" lines). A word-level BiLSTM and a BERT-style encoder trained from scratch (variants.json), each
// over the seeds with model selection on the validation split; accuracy and macro-F1 on the stratified test split.
// One folder per configuration (bundle, metrics.json, report.html) and the comparison in --out.
#include "common/suite.h"

namespace ff = finfuse;

int main(int argc, char** argv) {
  ff::examples::Options options;
  options.config = FINFUSE_EXAMPLE_DIR "/phrasebank/phrasebank.json";
  options.out = "phrasebank-run";
  ff::examples::SuiteOptions suite_options;
  suite_options.variants_file = FINFUSE_EXAMPLE_DIR "/phrasebank/variants.json";
  const char* description =
      "finfuse example: news sentiment on the Financial PhraseBank (BiLSTM and BERT-style from scratch)";
  return ff::examples::suite_main(argc, argv, description, options, suite_options, [] {
    ff::examples::Suite suite;
    suite.title = "Financial PhraseBank sentiment";
    suite.protocol =
        "Financial PhraseBank (Malo et al. 2014), the 2,264 sentences on which all annotators agreed (13% negative, "
        "61% neutral, 25% positive). Stratified split: 20% test, 16% validation (a fifth of the rest), 64% training; "
        "vocabularies are learned from the training sentences only. Reference: FinBERT (Araci 2019), which reports "
        "on this subset an LSTM baseline and the pre-trained FinBERT; ours are trained from scratch on ~1,450 "
        "sentences.";
    suite.headline = {"accuracy", "f1.macro"};
    suite.select_by = "f1.macro";
    suite.references = {
        {"LSTM (Araci 2019, all-agree subset)", {{"accuracy", 0.81}, {"f1.macro", 0.74}}},
        {"FinBERT, pre-trained (Araci 2019, all-agree subset)", {{"accuracy", 0.97}, {"f1.macro", 0.95}}}};
    suite.quick_slice = [](ff::training::RunConfig& run) {
      run.data.split.test_fraction = 0.5;  // train on a fraction of the sentences
      run.data.split.valid_fraction = 0.3;
    };
    suite.data_files = {"phrasebank/Sentences_AllAgree.txt"};
    suite.data_hint =
        "Get FinancialPhraseBank-v1.0 (Malo et al. 2014, CC BY-NC-SA 3.0; e.g. from the Hugging Face dataset "
        "\"financial_phrasebank\" or the authors' research page) and put Sentences_AllAgree.txt under "
        "<data-dir>/phrasebank/.";
    return suite;
  });
}
