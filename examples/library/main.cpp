// Example 5: finfuse as a library, in typed C++. Builds a credit-default model (data pipeline, encoders, head,
// trainer), saves it as a bundle and serves it: one Predictor shared by four threads scores applicants one at a time,
// as request handlers would, each answer checked against one batched prediction.
#include <finfuse/finfuse.h>

#include <atomic>
#include <iostream>
#include <thread>

namespace ff = finfuse;
namespace enc = finfuse::encoders;
using finfuse::models::ClassificationHead;

int main(int argc, char** argv) {
  const std::filesystem::path out = argc > 1 ? argv[1] : "library-run";
  // The data folder: $FINFUSE_DATA_DIR where it has the table, else ../shared/data next to the source tree.
  const std::filesystem::path table_file = std::filesystem::path("credit") / "taiwan_default.csv";
  std::filesystem::path csv = std::filesystem::path(FINFUSE_SOURCE_DIR "/../shared/data") / table_file;
  if (const char* env = std::getenv("FINFUSE_DATA_DIR"); env != nullptr && std::filesystem::exists(env / table_file)) {
    csv = env / table_file;
  }
  if (!std::filesystem::exists(csv)) {
    std::cout << "This example needs " << csv.string() << " (UCI \"default of credit card clients\"; set "
              << "FINFUSE_DATA_DIR to the folder holding credit/taiwan_default.csv).\n";
    return 0;
  }
  ff::apply_runtime(ff::RuntimeOptions().seed(3).log_level("warn"));

  // 1. Data: the credit table, a stratified split, robust scaling fitted on the training rows only.
  ff::data::DataConfig data;
  ff::data::TableSource& table = data.tables.emplace_back(ff::data::TableSource{"credit", csv, {}});
  table.options.kind = "static";
  table.options.entity_column = "ID";
  table.options.label_column = "defaulted";
  table.options.categorical = {"SEX", "EDUCATION", "MARRIAGE", "PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"};
  data.samples_from_table = "credit";
  data.split.kind = "stratified";
  data.dataset.modalities = {"numeric"};
  data.dataset.numeric.scale = "robust";
  const auto pipeline = ff::data::DataPipeline::build(data);
  const auto dataset = pipeline.dataset();

  // 2. Model: embeddings for the categories and an MLP for the numbers, concatenated, a two-class head.
  ff::models::MultimodalModel model(
      ff::models::MultimodalModelOptions()
          .encoder("categorical", enc::MlpEncoder(enc::MlpEncoderOptions().layers({16}).embedding_dim(4),
                                                  ff::models::modality_spec(*dataset, "categorical")))
          .encoder("numeric", enc::MlpEncoder(enc::MlpEncoderOptions().layers({64, 32}).dropout(0.1),
                                              ff::models::modality_spec(*dataset, "numeric")))
          .head("default", ClassificationHead(ff::models::ClassificationHeadOptions(2), 16 + 32)));

  // 3. Training with early stopping on the validation ROC-AUC; the test part stays held out.
  const auto options = ff::training::TrainerOptions().epochs(6).batch_size(256).monitor("valid.roc_auc").patience(3)
                           .progress("none").optimizer(ff::training::AdamWOptions().lr(0.002));
  ff::training::Trainer trainer(options, model, dataset, pipeline.split().train, pipeline.split().valid);
  const auto fit = trainer.fit();
  const auto test = trainer.evaluate(pipeline.split().test);
  std::cout << "trained " << fit.history.size() << " epochs; test ROC-AUC " << test.values.at("roc_auc") << "\n";

  // 4. Save: weights, fitted preprocessing, vocabularies and configuration in one bundle.
  ff::io::write_bundle(out / "bundle", ff::io::bundle_source(model, pipeline));

  // 5. Serve: a predictor from the bundle alone, shared by four threads scoring one applicant at a time.
  const ff::io::Predictor predictor(out / "bundle");
  const auto& rows = pipeline.split().test;
  const auto batched = predictor.predict(dataset->collate(rows)).at("default");
  std::atomic<std::size_t> next{0}, agree{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (std::size_t k = next++; k < rows.size(); k = next++) {
        const auto one = predictor.predict(dataset->collate({rows[k]})).at("default");
        agree += torch::allclose(one[0], batched[static_cast<std::int64_t>(k)], 1e-5, 1e-6) ? 1 : 0;
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  std::cout << "served " << rows.size() << " applicants one by one from 4 threads; " << agree
            << " match the batched prediction\nbundle: " << (out / "bundle").string() << "\n";
  return agree == rows.size() ? 0 : 1;
}
