// Example 5: finfuse as a library. Builds a credit-default model in C++ (data pipeline, model, trainer), saves it as
// a bundle, and serves it: a Predictor shared by several threads scores new applicants, one record at a time, as a
// service would.
#include <finfuse/core/random.h>
#include <finfuse/core/runtime.h>
#include <finfuse/data/pipeline.h>
#include <finfuse/encoders/mlp_encoder.h>
#include <finfuse/io/bundle.h>
#include <finfuse/io/predictor.h>
#include <finfuse/training/trainer.h>

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

namespace ff = finfuse;

int main(int argc, char** argv) {
  const std::filesystem::path out = argc > 1 ? argv[1] : "library-run";
  std::filesystem::path data_dir = std::getenv("FINFUSE_DATA_DIR") != nullptr
                                       ? std::filesystem::path(std::getenv("FINFUSE_DATA_DIR"))
                                       : std::filesystem::path(FINFUSE_SOURCE_DIR) / ".." / "shared" / "data";
  const auto csv = data_dir / "credit" / "taiwan_default.csv";
  if (!std::filesystem::exists(csv)) {
    std::cout << "This example needs " << csv.string()
              << " (UCI \"default of credit card clients\"); set FINFUSE_DATA_DIR to its data folder.\n";
    return 0;
  }
  try {
    ff::apply_runtime(ff::RuntimeOptions().seed(3).log_level("warn"));

    // 1. Data: the credit table, a stratified split, preprocessing fitted on the training rows.
    ff::data::DataConfig data;
    ff::data::TableSource table;
    table.name = "credit";
    table.path = csv;
    table.options.kind = "static";
    table.options.entity_column = "ID";
    table.options.label_column = "defaulted";
    table.options.categorical = {"SEX", "EDUCATION", "MARRIAGE", "PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"};
    data.tables.push_back(table);
    data.samples_from_table = "credit";
    data.split.kind = "stratified";
    data.dataset.modalities = {"numeric"};
    data.dataset.numeric.scale = "robust";
    const auto pipeline = ff::data::DataPipeline::build(data);
    const auto dataset = pipeline.dataset();

    // 2. Model: an MLP for the numbers, embeddings for the categories, concatenated, a classification head.
    namespace enc = ff::encoders;
    ff::seed_everything(3);
    ff::models::MultimodalModel model(
        ff::models::MultimodalModelOptions()
            .encoder("categorical", enc::MlpEncoder(enc::MlpEncoderOptions().layers({16}).embedding_dim(4),
                                                    ff::models::modality_spec(*dataset, "categorical")))
            .encoder("numeric", enc::MlpEncoder(enc::MlpEncoderOptions().layers({64, 32}).dropout(0.1),
                                                ff::models::modality_spec(*dataset, "numeric")))
            .head("default", ff::models::ClassificationHead(ff::models::ClassificationHeadOptions(2), 16 + 32)));
    std::cout << model->summary(dataset->collate({0, 1}));

    // 3. Training with early stopping on the validation ROC-AUC.
    const auto options = ff::training::TrainerOptions()
                             .epochs(6)
                             .batch_size(256)
                             .monitor("valid.roc_auc")
                             .patience(3)
                             .progress("none")
                             .optimizer(ff::Json{{"type", "adamw"}, {"lr", 0.002}});
    ff::training::Trainer trainer(options, model, dataset, pipeline.split().train, pipeline.split().valid);
    const auto fit = trainer.fit();
    const auto test = trainer.evaluate(pipeline.split().test);
    std::cout << fmt::format("trained {} epochs; test ROC-AUC {:.4f}, accuracy {:.4f}\n", fit.history.size(),
                             test.values.at("roc_auc"), test.values.at("accuracy"));

    // 4. Save: one bundle with the weights, the fitted preprocessing and the configuration.
    ff::io::BundleSource source;
    source.model = trainer.model();
    source.modalities = ff::models::modality_specs(*dataset);
    source.preprocessing = dataset->fitted();
    source.entities = dataset->entities();
    source.data = data.to_json();
    source.metrics = ff::Json{{"test_roc_auc", test.values.at("roc_auc")}};
    source.inputs = {csv};
    ff::io::write_bundle(out / "bundle", source);

    // 5. Serve: a predictor loaded from the bundle alone, shared by four threads that each score applicants one at a
    //    time (as a request handler would), checked against one batched prediction.
    const ff::io::Predictor predictor(out / "bundle");
    const auto& indices = pipeline.split().test;
    const auto batched = predictor.predict(dataset->collate(indices)).at("default");
    std::atomic<std::size_t> next{0}, agree{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&] {
        for (std::size_t k = next++; k < indices.size(); k = next++) {
          const auto one = predictor.predict(dataset->collate({indices[k]})).at("default");
          agree += torch::allclose(one[0], batched[static_cast<std::int64_t>(k)], 1e-5, 1e-6) ? 1 : 0;
        }
      });
    }
    for (auto& w : workers) {
      w.join();
    }
    std::cout << fmt::format("served {} applicants one by one from 4 threads; {} match the batched prediction\n",
                             indices.size(), agree.load());
    std::cout << fmt::format("bundle: {}\n", (out / "bundle").string());
    return agree.load() == indices.size() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
