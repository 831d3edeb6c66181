// A project that extends finfuse from its own sources, built against the installed package: it registers a modality
// (quantile_bins), an encoder (feature_gate), a fusion layer (max), a head (cosine) and a metric (capture) of its own,
// trains a model that uses them on data it writes itself, saves the bundle, serves it with finfuse's Predictor and
// checks that the predictor, rebuilding the inputs from the raw table with the bundle's fitted state, gives the
// trained model's outputs.
#include "cosine_head.h"
#include "extension.h"
#include "feature_gate_encoder.h"
#include "gate_trace.h"
#include "max_fusion.h"
#include "quantile_bins_modality.h"

#include <finfuse/core/runtime.h>
#include <finfuse/core/shape.h>
#include <finfuse/data/pipeline.h>
#include <finfuse/encoders/mlp_encoder.h>
#include <finfuse/io/bundle.h>
#include <finfuse/io/predictor.h>
#include <finfuse/models/multimodal_model.h>
#include <finfuse/training/trainer.h>

#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace ff = finfuse;

namespace {

// Applicants whose default follows a logistic rule in two of five features and their segment.
void write_applicants(const std::filesystem::path& path, int rows, bool with_label, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  std::ofstream out(path);
  out << "id,x1,x2,x3,x4,x5,segment" << (with_label ? ",defaulted" : "") << "\n";
  for (int i = 0; i < rows; ++i) {
    double x[5];
    for (double& v : x) {
      v = normal(rng);
    }
    const char segment = "ABC"[i % 3];
    const double logit = 1.8 * x[0] - 1.2 * x[1] + (segment == 'C' ? 1.0 : 0.0) - 0.4;
    out << i << ',' << x[0] << ',' << x[1] << ',' << x[2] << ',' << x[3] << ',' << x[4] << ',' << segment;
    if (with_label) {
      out << ',' << (uniform(rng) < 1.0 / (1.0 + std::exp(-logit)) ? 1 : 0);
    }
    out << "\n";
  }
}

ff::data::DataConfig applicants_data(const std::filesystem::path& csv) {
  ff::data::DataConfig data;
  auto& table = data.tables.emplace_back(ff::data::TableSource{"applicants", csv, {}});
  table.options.kind = "static";
  table.options.entity_column = "id";
  table.options.label_column = "defaulted";
  table.options.categorical = {"segment"};
  data.samples_from_table = "applicants";
  data.split.kind = "stratified";
  // finfuse's numeric modality and this project's quantile bins of three of the same columns.
  data.dataset.modalities = {"numeric", "quantile_bins"};
  data.dataset.modality_options["quantile_bins"] =
      ff::Config(extension::QuantileBinsOptions().table("applicants").columns({"x1", "x2", "x3"}).bins(6).to_json());
  return data;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::filesystem::path work = argc > 1 ? argv[1] : "extension-work";
    std::filesystem::create_directories(work);
    extension::register_extension();
    ff::apply_runtime(ff::RuntimeOptions().device("cpu").seed(5).num_threads(1).log_level("warn"));

    // The cosine head on a hand-computed case: prototypes along the axes, a fused vector (3, 4) -> cosines (0.6, 0.8),
    // logits 8 * cosines; cross-entropy for class 1 is log(1 + e^-1.6), and with label smoothing 0.1 over two classes
    // -(0.95 log p1 + 0.05 log p0).
    {
      torch::NoGradGuard no_grad;
      extension::CosineHead plain(extension::CosineHeadOptions(2).scale(8), 2);
      extension::CosineHead smoothed(extension::CosineHeadOptions(2).scale(8).label_smoothing(0.1), 2);
      plain->prototypes().copy_(torch::tensor({2.0f, 0.0f, 0.0f, 3.0f}).reshape({2, 2}));
      smoothed->prototypes().copy_(plain->prototypes());
      const auto logits = plain->forward(torch::tensor({3.0f, 4.0f}).reshape({1, 2}));
      const auto label = torch::tensor({std::int64_t{1}});
      const double plain_loss = plain->loss(logits, label).item<double>();
      const double smoothed_loss = smoothed->loss(logits, label).item<double>();
      if (std::abs(logits[0][0].item<double>() - 4.8) > 1e-5 || std::abs(logits[0][1].item<double>() - 6.4) > 1e-5 ||
          std::abs(plain_loss - 0.18390074) > 1e-6 || std::abs(smoothed_loss - 0.26390074) > 1e-6) {
        std::fprintf(stderr, "cosine head: logits (%g, %g), losses %.8f and %.8f\n", logits[0][0].item<double>(),
                     logits[0][1].item<double>(), plain_loss, smoothed_loss);
        return 1;
      }
    }

    write_applicants(work / "applicants.csv", 1500, true, 11);
    const auto pipeline = ff::data::DataPipeline::build(applicants_data(work / "applicants.csv"));
    const auto dataset = pipeline.dataset();
    const auto& split = pipeline.split();

    // The bin edges were fitted on the training applicants alone.
    const auto& bins = dataset->modality<extension::QuantileBinsModality>("quantile_bins");
    std::printf("quantile bins: %zu columns, x1 edges from %.3f to %.3f\n", bins.edges().size(),
                bins.edges()[0].front(), bins.edges()[0].back());

    // The model: this project's encoder for the numbers, finfuse's MLP for the segment and for the bins, this
    // project's fusion and head.
    ff::models::MultimodalModelOptions parts;
    parts.encoder("numeric", extension::FeatureGateEncoder(extension::FeatureGateEncoderOptions().hidden(16),
                                                           ff::models::modality_spec(*dataset, "numeric")))
        .encoder("categorical",
                 ff::encoders::MlpEncoder(ff::encoders::MlpEncoderOptions().layers({8}).embedding_dim(3),
                                          ff::models::modality_spec(*dataset, "categorical")))
        .encoder("quantile_bins", ff::encoders::MlpEncoder(ff::encoders::MlpEncoderOptions().layers({8}),
                                                           ff::models::modality_spec(*dataset, "quantile_bins")));
    parts.fusion(extension::MaxFusion(extension::MaxFusionOptions().width(16), parts.fusion_modalities()))
        .head("default", extension::CosineHead(extension::CosineHeadOptions(2).scale(8).label_smoothing(0.05), 16));
    ff::models::MultimodalModel model(parts);

    const auto options = ff::training::TrainerOptions()
                             .epochs(10)
                             .batch_size(64)
                             .metrics({"roc_auc", ff::Json{{"type", "capture"}, {"top", 0.2}}})
                             .monitor("valid.roc_auc")
                             .progress("none")
                             .optimizer(ff::training::AdamWOptions().lr(0.01));
    ff::training::Trainer trainer(options, model, dataset, split.train, split.valid);
    const auto trace = std::make_shared<extension::GateTrace>("numeric");
    trainer.add_callback(trace);
    const auto fit = trainer.fit();
    const auto test = trainer.evaluate(split.test).values;
    std::printf("test ROC-AUC %.4f, capture of the top 20%% %.4f; gates after the last epoch: %s\n",
                test.at("roc_auc"), test.at("capture"), ff::shape_string(trace->gates().back().sizes()).c_str());
    if (!(test.at("roc_auc") > 0.7) || !(test.at("capture") > 0.3) || trace->gates().size() != fit.history.size()) {
      std::fprintf(stderr, "the model did not learn the rule, or the callback missed epochs\n");
      return 1;
    }

    // The bundle names the parts by their registry names; the predictor rebuilds them from there.
    ff::io::write_bundle(work / "bundle", ff::io::bundle_source(model, pipeline));
    const ff::io::Predictor predictor(work / "bundle");
    const auto config = predictor.model()->config_json();
    if (config["encoders"]["numeric"]["type"] != "feature_gate" || config["fusion"]["type"] != "max" ||
        config["heads"]["default"]["type"] != "cosine") {
      std::fprintf(stderr, "the bundle's model is not this project's: %s\n", config.dump().c_str());
      return 1;
    }
    const auto batch = dataset->collate(split.test);
    model->eval();
    torch::NoGradGuard no_grad;
    const auto ours = model->forward(batch).predictions.at("default");
    const auto served = predictor.predict(batch).at("default");
    const double difference = (ours - served).abs().max().item<double>();
    std::printf("predictor vs trained model on %zu test applicants: largest difference %.3g\n", split.test.size(),
                difference);
    if (!(difference <= 1e-6)) {
      return 1;
    }

    // The predictor reads the raw table again and rebuilds every modality, this project's with the bundle's bin
    // edges: the probabilities match the trained model's on every applicant.
    std::vector<std::size_t> all = dataset->usable_only(split.train);
    all.insert(all.end(), split.valid.begin(), split.valid.end());
    all.insert(all.end(), split.test.begin(), split.test.end());
    const auto trained = torch::softmax(model->forward(dataset->collate(all)).predictions.at("default"), 1);
    std::map<std::string, double> by_entity;
    for (std::size_t k = 0; k < all.size(); ++k) {
      by_entity[dataset->entities()[static_cast<std::size_t>(dataset->sample(all[k]).entity)]] =
          trained[static_cast<std::int64_t>(k)][1].item<double>();
    }
    const auto rebuilt = predictor.predict(predictor.training_data());
    double rebuilt_difference = 0.0;
    for (std::size_t k = 0; k < rebuilt.size(); ++k) {
      rebuilt_difference =
          std::max(rebuilt_difference, std::abs(rebuilt.rows.at("default").score[k] - by_entity.at(rebuilt.entity[k])));
    }
    std::printf("predictor from the raw table vs trained model on %zu applicants: largest difference %.3g\n",
                rebuilt.size(), rebuilt_difference);
    if (rebuilt.size() != by_entity.size() || !(rebuilt_difference <= 1e-6)) {
      return 1;
    }

    // New applicants, without a label: the predictor applies the bundle's preprocessing itself.
    write_applicants(work / "new.csv", 40, false, 12);
    auto fresh = predictor.training_data();
    fresh.tables.front().path = work / "new.csv";
    const auto table = predictor.predict(fresh);
    std::printf("scored %zu new applicants\n", table.size());
    return table.size() == 40 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "extension failed: %s\n", e.what());
    return 1;
  }
}
