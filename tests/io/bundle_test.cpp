// Bundles and the predictor: a trained model leaves as one folder (or archive), loads back with identical outputs,
// serves new data including days whose label lies in the future, is shared safely by many threads, and refuses
// damaged or incompatible bundles with the file named.
#include "finfuse/io/bundle.h"
#include "finfuse/io/predictor.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/data/time.h"
#include "finfuse/training/experiment.h"
#include "finfuse/training/warm_start.h"
#include "finfuse/version.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <thread>

namespace finfuse::io {
namespace {

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = finfuse::testing::unique_temp_dir("finfuse_bundle");
    std::mt19937_64 rng(9);
    std::normal_distribution<double> normal;
    std::ofstream csv(dir_ / "credit.csv");
    std::ofstream unlabeled(dir_ / "applicants.csv");
    csv << "id,x1,x2,grade,defaulted\n";
    unlabeled << "id,x1,x2,grade\n";
    for (int i = 0; i < 240; ++i) {
      const double x1 = normal(rng), x2 = normal(rng);
      const char* grade = i % 3 == 0 ? "A" : (i % 3 == 1 ? "B" : "C");
      csv << i << ',' << x1 << ',' << x2 << ',' << grade << ',' << (x1 - x2 + 0.5 * normal(rng) > 0 ? 1 : 0) << '\n';
      unlabeled << i << ',' << x1 << ',' << x2 << ',' << grade << '\n';
    }
    csv.close();
    unlabeled.close();
    data_ = data::DataConfig::from_config(Config::parse(R"({
      "tables": {"credit": {"path": "credit.csv", "kind": "static", "entity_column": "id",
                            "categorical": ["grade"], "label_column": "defaulted"}},
      "samples_from_table": "credit",
      "split": {"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.2, "seed": 1},
      "dataset": {"modalities": ["numeric"]}})"), dir_);
    pipeline_ = std::make_unique<data::DataPipeline>(data::DataPipeline::build(data_));
    auto options = training::TrainerOptions::from_config(Config::parse(R"({"epochs": 3, "progress": "none"})"));
    run_ = training::train_and_evaluate(model_config(), options, *pipeline_, c10::Device(c10::DeviceType::CPU), 3);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Config model_config() {
    return Config::parse(R"({"encoders": {"numeric": {"type": "mlp", "layers": [8]},
                                          "categorical": {"type": "mlp", "layers": [4]}},
                             "heads": {"default": {"type": "classification"}}})");
  }

  BundleSource source() const {
    BundleSource s;
    s.model = run_.model;
    s.modalities = models::modality_specs(*pipeline_->dataset());
    s.preprocessing = pipeline_->dataset()->fitted();
    s.entities = pipeline_->dataset()->entities();
    s.data = data_.to_json();
    s.metrics = Json{{"test", run_.test.values.at("accuracy")}};
    s.inputs = {dir_ / "credit.csv"};
    s.seed = 3;
    return s;
  }

  std::filesystem::path dir_;
  data::DataConfig data_;
  std::unique_ptr<data::DataPipeline> pipeline_;
  training::RunResult run_;
};

TEST_F(BundleTest, RoundTripsWithIdenticalOutputs) {
  const auto manifest = write_bundle(dir_ / "model", source());
  EXPECT_EQ(manifest["format"], "finfuse-bundle-1");
  EXPECT_EQ(manifest["inputs"][0]["sha256"].get<std::string>().size(), 64U);
  EXPECT_TRUE(manifest["files"].contains("weights.pt"));
  const auto bundle = read_bundle(dir_ / "model");
  EXPECT_EQ(bundle.entities.size(), 240U);
  EXPECT_EQ(bundle.config["model"], run_.model->config_json());
  auto model = bundle.build_model();
  run_.model->eval();
  const auto batch = pipeline_->dataset()->collate({0, 1, 2, 3, 4});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(model->forward(batch).predictions.at("default"),
                           run_.model->forward(batch).predictions.at("default")));
  // Writing again replaces the bundle whole, and leaves nothing else behind.
  write_bundle(dir_ / "model", source());
  std::size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    entries += entry.path().filename().string().rfind(".model", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(entries, 0U) << "no temporary folder is left";
}

// A run warm-started from a bundle (folder or archive) begins with the bundle's weights.
TEST_F(BundleTest, WarmStartsARunFromTheBundle) {
  write_bundle(dir_ / "model", source());
  write_bundle_archive(dir_ / "model", dir_ / "model.finfuse");
  for (const auto& path : {dir_ / "model", dir_ / "model.finfuse"}) {
    seed_everything(11);
    models::MultimodalModel fresh(model_config(), models::modality_specs(*pipeline_->dataset()));
    const auto report = training::warm_start(*fresh, training::WarmStartOptions().path(path));
    EXPECT_EQ(report.kind, "bundle") << path;
    EXPECT_TRUE(report.kept.empty());
    for (const auto& p : run_.model->named_parameters()) {
      EXPECT_TRUE(torch::equal(p.value(), fresh->named_parameters()[p.key()])) << path << " " << p.key();
    }
  }
}

TEST_F(BundleTest, WeightsOfAnotherShapeAreAnErrorNamingTheTensor) {
  write_bundle(dir_ / "model", source());
  auto bundle = read_bundle(dir_ / "model");
  // The same parameter names with other widths: LibTorch's archive alone would take the stored tensors as they are.
  bundle.config["model"]["encoders"]["numeric"]["layers"] = Json::array({6});
  try {
    bundle.build_model();
    FAIL() << "weights of another shape were accepted";
  } catch (const DataError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("weights.pt"), std::string::npos) << message;
    EXPECT_NE(message.find("encoders.numeric"), std::string::npos) << message;
    EXPECT_NE(message.find("[6"), std::string::npos) << message;
  }
}

TEST_F(BundleTest, PredictsNewApplicantsLikeTheTrainedModel) {
  write_bundle(dir_ / "model", source());
  const Predictor predictor(dir_ / "model");
  auto data = predictor.training_data();
  data.tables[0].path = dir_ / "applicants.csv";  // no label column
  const auto table = predictor.predict(data);
  ASSERT_EQ(table.size(), 240U);
  const auto& rows = table.rows.at("default");
  EXPECT_TRUE(std::isnan(rows.target[0]));
  // The same probabilities as the trained model on the test samples.
  const auto expected = run_.test.predictions.at("default");
  for (std::size_t k = 0; k < expected.size(); ++k) {
    const auto i = static_cast<std::size_t>(expected.entity[k]);  // static samples: entity index = row
    EXPECT_NEAR(rows.probability(i, 1), expected.probability(k, 1), 1e-6) << "row " << i;
  }
  table.write_csv(dir_ / "predictions.csv");
  std::ifstream csv(dir_ / "predictions.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "entity,date,target,forward_return,default.class,default.p0,default.p1");
  // The file reads back: no labels yet, so only a backtest-style read keeps the rows.
  std::string head;
  const auto back = read_predictions_csv(dir_ / "predictions.csv", head, "backtest");
  EXPECT_EQ(head, "default");
  ASSERT_EQ(back.size(), 240U);
  EXPECT_EQ(back.classes, 2);
  EXPECT_NEAR(back.probability(7, 1), rows.probability(7, 1), 1e-9);
  EXPECT_EQ(read_predictions_csv(dir_ / "predictions.csv", head).size(), 0U) << "rows without a target are not scored";
}

TEST_F(BundleTest, ConcurrentCallersGetTheSingleThreadedAnswers) {
  write_bundle(dir_ / "model", source());
  const Predictor predictor(dir_ / "model");
  std::vector<data::Batch> batches;
  std::vector<torch::Tensor> expected;
  for (std::size_t b = 0; b < 8; ++b) {
    batches.push_back(pipeline_->dataset()->collate({b * 10, b * 10 + 1, b * 10 + 2, b * 10 + 3}));
    expected.push_back(predictor.predict(batches.back()).at("default"));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        const auto b = static_cast<std::size_t>((t + round) % 8);
        if (!torch::equal(predictor.predict(batches[b]).at("default"), expected[b])) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(BundleTest, DamagedOrIncompatibleBundlesNameTheFile) {
  write_bundle(dir_ / "model", source());
  const auto expect_error = [&](const std::string& fragment) {
    try {
      read_bundle(dir_ / "model");
      ADD_FAILURE() << "no error, expected " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  const auto weights = dir_ / "model" / "weights.pt";
  std::string bytes;
  {
    std::ifstream in(weights, std::ios::binary);
    bytes.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x40);
  std::ofstream(weights, std::ios::binary | std::ios::trunc) << flipped;
  expect_error("weights.pt: its SHA-256 does not match the manifest");
  std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  expect_error("weights.pt: has");
  std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes;
  std::filesystem::remove(dir_ / "model" / "entities.json");
  expect_error("entities.json: missing from the bundle");
  write_bundle(dir_ / "model", source());
  Json manifest;
  std::ifstream(dir_ / "model" / "manifest.json") >> manifest;
  // Another finfuse version reads the bundle (the format decides); a newer format is refused, naming the versions.
  manifest["finfuse_version"] = "9.1.0";
  std::ofstream(dir_ / "model" / "manifest.json", std::ios::trunc) << manifest.dump();
  EXPECT_NO_THROW(read_bundle(dir_ / "model"));
  manifest["format"] = "finfuse-bundle-2";
  std::ofstream(dir_ / "model" / "manifest.json", std::ios::trunc) << manifest.dump();
  expect_error("written in finfuse-bundle format version 2 by finfuse 9.1.0, newer than this finfuse");
  manifest["format"] = "finfuse-bundle-0";
  std::ofstream(dir_ / "model" / "manifest.json", std::ios::trunc) << manifest.dump();
  expect_error(fmt::format("which finfuse {} no longer reads (version 1)", version()));
  manifest["format"] = "onnx";
  std::ofstream(dir_ / "model" / "manifest.json", std::ios::trunc) << manifest.dump();
  expect_error("not a finfuse-bundle file (format 'onnx' by finfuse 9.1.0)");
  EXPECT_THROW(read_bundle(dir_ / "absent"), IoError);
}

TEST_F(BundleTest, OneArchiveFile) {
  write_bundle(dir_ / "model", source());
  write_bundle_archive(dir_ / "model", dir_ / "model.ffb");
  const auto bundle = read_bundle(dir_ / "model.ffb");
  EXPECT_EQ(bundle.weights, read_bundle(dir_ / "model").weights);
  const Predictor predictor(dir_ / "model.ffb");
  EXPECT_EQ(predictor.predict(pipeline_->dataset()->collate({0})).at("default").sizes(),
            (std::vector<std::int64_t>{1, 2}));
  std::ofstream(dir_ / "junk.ffb") << "not a zip";
  EXPECT_THROW(read_bundle(dir_ / "junk.ffb"), DataError);
}

TEST(PredictorPrices, LatestDaysArePredictedBeforeTheirLabelExists) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_predictor_prices");
  std::mt19937_64 rng(2);
  std::normal_distribution<double> noise(0.0, 0.01);
  std::ofstream prices(dir / "prices.csv");
  prices << "symbol,date,open,high,low,close,adj_close,volume\n";
  data::Date last;
  for (const char* symbol : {"AAA", "BBB", "CCC"}) {
    double p = 20.0;
    data::Date day = data::Date::from_ymd(2017, 1, 2);
    for (int i = 0; i < 80; ++i) {
      while (day.weekday() == 0 || day.weekday() == 6) {
        day = day + 1;
      }
      p *= 1.0 + noise(rng);
      prices << symbol << ',' << day.to_string() << ',' << p << ',' << p << ',' << p << ',' << p << ',' << p << ",1\n";
      last = day;
      day = day + 1;
    }
  }
  prices.close();
  const auto data = data::DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "prices.csv"}, "assembly": {"price_window": 5, "decision": "close", "label": {"horizon": 2}},
    "split": {"valid_start": "2017-03-15", "test_start": "2017-04-01"}, "dataset": {"modalities": ["price"]}})"), dir);
  const auto pipeline = data::DataPipeline::build(data);
  const auto run = training::train_and_evaluate(
      Config::parse(R"({"encoders": {"price": {"type": "rnn", "hidden": 4}}, "heads": {"up": {"type": "classification"}}})"),
      training::TrainerOptions::from_config(Config::parse(R"({"epochs": 1, "progress": "none"})")), pipeline,
      c10::Device(c10::DeviceType::CPU), 1);
  BundleSource s;
  s.model = run.model;
  s.modalities = models::modality_specs(*pipeline.dataset());
  s.preprocessing = pipeline.dataset()->fitted();
  s.entities = pipeline.dataset()->entities();
  s.data = data.to_json();
  write_bundle(dir / "model", s);
  const Predictor predictor(dir / "model");
  const auto table = predictor.predict(predictor.training_data());
  // Training had no sample on the last two days (their 2-day label is unknown); prediction has one per stock.
  EXPECT_EQ(table.size(), pipeline.samples().samples.size() + 2 * 3);
  std::size_t latest = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table.date[i] == last.to_string()) {
      ++latest;
      EXPECT_TRUE(std::isnan(table.rows.at("up").target[i]));
    }
  }
  EXPECT_EQ(latest, 3U);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse::io
