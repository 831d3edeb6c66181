// The trainer on a generated credit-style table: learning with metrics and history files, exact resume, early
// stopping with best-model restore, the non-finite guard, gradient accumulation equivalence, checkpoints that
// survive damage.
#include "finfuse/training/trainer.h"

#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/random.h"
#include "finfuse/training/optimizer.h"
#include "support/credit_dataset.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>
#include <torch/version.h>

#include <fstream>
#include <random>
#include <sstream>

namespace finfuse::training {
namespace {

class TrainerTest : public finfuse::testing::CreditDatasetTest {
 protected:
  TrainerTest() : CreditDatasetTest("finfuse_trainer", 17) {}

  models::MultimodalModel model(std::uint64_t seed, double dropout = 0.1) const {
    seed_everything(seed);
    return models::MultimodalModel(
        Config(Json{{"encoders", {{"numeric", {{"type", "mlp"}, {"layers", {16, 16}}, {"dropout", dropout}}}}},
                    {"heads", {{"default", {{"type", "classification"}}}}}}),
        models::modality_specs(*dataset_), label_context(*dataset_, train_));
  }

  TrainerOptions options(const std::string& json) const {
    auto config = Json::parse(json);
    config["progress"] = "none";
    return TrainerOptions::from_config(Config(config));
  }
};

TEST_F(TrainerTest, LearnsAndWritesItsHistory) {
  auto o = options(R"({"epochs": 6, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.01},
                       "monitor": "valid.roc_auc"})");
  o.out_dir((dir_ / "run").string());
  Trainer trainer(o, model(1), dataset_, train_, valid_);
  const auto result = trainer.fit();
  ASSERT_EQ(result.history.size(), 6U);
  const auto& last = result.history.back().values;
  EXPECT_GT(last.at("valid.accuracy"), 0.8);
  EXPECT_GT(last.at("valid.roc_auc"), 0.9);
  EXPECT_LT(last.at("train.loss"), result.history.front().values.at("train.loss"));
  EXPECT_GT(last.at("samples_per_second"), 0.0);
  EXPECT_EQ(result.step_losses.size(), 6U * 10U);  // ceil(300 / 32) batches per epoch
  EXPECT_GE(result.best_epoch, 0);
  // History files and the best weights.
  std::ifstream jsonl(dir_ / "run" / "history.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(jsonl, line)) {
    EXPECT_EQ(Json::parse(line)["epoch"], ++lines);
  }
  EXPECT_EQ(lines, 6);
  std::ifstream csv(dir_ / "run" / "history.csv");
  std::getline(csv, line);
  EXPECT_NE(line.find("valid.roc_auc"), std::string::npos) << line;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "run" / "best.pt"));
  EXPECT_TRUE(Trainer::latest_checkpoint(dir_ / "run").has_value());
  const auto evaluation = trainer.evaluate(valid_, true);
  EXPECT_EQ(evaluation.samples, 100);
  EXPECT_EQ(evaluation.predictions.at("default").size(), 100U);
  EXPECT_NEAR(evaluation.values.at("roc_auc"), result.best_value, 1e-9) << "the best epoch's weights are restored";
}

// Stops the run after a given number of optimisation steps, as a crash would.
class StopAfter : public Callback {
 public:
  explicit StopAfter(std::int64_t steps) : steps_(steps) {}
  std::string name() const override { return "stop_after"; }
  void on_step_end(Trainer& t) override {
    if (t.state().step == steps_) {
      t.request_stop("interrupted");
    }
  }

 private:
  std::int64_t steps_;
};

TEST_F(TrainerTest, ResumedRunReproducesTheUninterruptedLossCurve) {
  const std::string json = R"({"epochs": 3, "batch_size": 32, "optimizer": {"type": "adamw", "lr": 0.005},
                               "scheduler": {"type": "cosine", "warmup_steps": 4}})";
  auto o = options(json);
  o.out_dir((dir_ / "whole").string());
  Trainer whole(o, model(3), dataset_, train_, valid_);
  const auto expected = whole.fit();

  o.out_dir((dir_ / "interrupted").string());
  {
    Trainer first(o, model(3), dataset_, train_, valid_);
    first.add_callback(std::make_shared<StopAfter>(13));  // in the middle of the second epoch
    const auto partial = first.fit();
    EXPECT_TRUE(partial.stopped_early);
    EXPECT_EQ(partial.step_losses.size(), 13U);
  }
  // A fresh process: different initial weights and RNG state, all replaced by the checkpoint.
  Trainer second(o, model(99), dataset_, train_, valid_);
  seed_everything(12345);
  ASSERT_TRUE(second.resume(o.out_dir()));
  EXPECT_EQ(second.state().step, 13);
  EXPECT_EQ(second.state().epoch, 1);
  const auto resumed = second.fit();
  ASSERT_EQ(resumed.step_losses.size(), expected.step_losses.size());
  for (std::size_t i = 0; i < expected.step_losses.size(); ++i) {
    EXPECT_EQ(resumed.step_losses[i], expected.step_losses[i]) << "step " << i + 1;
  }
  ASSERT_EQ(resumed.history.size(), 3U);
  for (std::size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(resumed.history[e].values.at("train.loss"), expected.history[e].values.at("train.loss")) << e;
    EXPECT_EQ(resumed.history[e].values.at("valid.loss"), expected.history[e].values.at("valid.loss")) << e;
  }
  const auto a = whole.model()->named_parameters();
  const auto b = second.model()->named_parameters();
  for (const auto& p : a) {
    EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  }
}

TEST_F(TrainerTest, EarlyStoppingRestoresTheBestEpoch) {
  // Watching the validation loss as if higher were better: only the first epoch is ever "best".
  auto o = options(R"({"epochs": 10, "monitor": "valid.loss", "mode": "max", "patience": 2,
                       "optimizer": {"type": "sgd", "lr": 0.1}})");
  o.out_dir((dir_ / "early").string());
  Trainer trainer(o, model(4), dataset_, train_, valid_);
  const auto result = trainer.fit();
  EXPECT_TRUE(result.stopped_early);
  EXPECT_EQ(result.history.size(), 3U);
  EXPECT_EQ(result.best_epoch, 0);
  EXPECT_NE(result.stop_reason.find("early stopping"), std::string::npos);
  EXPECT_NEAR(trainer.evaluate(valid_).values.at("loss"), result.history[0].values.at("valid.loss"), 1e-9);
}

// Poisons a weight after a given step.
class Poison : public Callback {
 public:
  std::string name() const override { return "poison"; }
  void on_step_end(Trainer& t) override {
    if (t.state().step == 3) {
      torch::NoGradGuard no_grad;
      t.model()->parameters().front().view(-1)[0] = std::nan("");
    }
  }
};

TEST_F(TrainerTest, NonFiniteLossStopsWithTheStepAndKeepsTheLastCheckpoint) {
  auto o = options(R"({"epochs": 2, "checkpoint_every_steps": 2})");
  o.out_dir((dir_ / "nan").string());
  Trainer trainer(o, model(5), dataset_, train_, valid_);
  trainer.add_callback(std::make_shared<Poison>());
  try {
    trainer.fit();
    FAIL() << "no error";
  } catch (const TrainingError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("epoch 1, step 4 (batch 4 of 10)"), std::string::npos) << message;
    EXPECT_NE(message.find("checkpoint-e000-s00000002.pt"), std::string::npos) << message;
  }
  Trainer fresh(o, model(6), dataset_, train_, valid_);
  ASSERT_TRUE(fresh.resume(o.out_dir()));
  EXPECT_EQ(fresh.state().step, 2);
}

TEST_F(TrainerTest, GradientAccumulationMatchesOneLargeBatch) {
  // Plain SGD without dropout: four micro-batches of 8 equal one batch of 32, even where the last window is short.
  auto large = options(R"({"epochs": 1, "batch_size": 32, "batching": "sequential", "optimizer": {"type": "sgd", "lr": 0.5}})");
  auto small = options(R"({"epochs": 1, "batch_size": 8, "accumulation": 4, "batching": "sequential",
                           "optimizer": {"type": "sgd", "lr": 0.5}})");
  Trainer a(large, model(7, 0.0), dataset_, train_, {});
  Trainer b(small, model(7, 0.0), dataset_, train_, {});
  a.fit();
  b.fit();
  EXPECT_EQ(a.state().step, b.state().step);
  const auto pb = b.model()->named_parameters();
  for (const auto& p : a.model()->named_parameters()) {
    EXPECT_TRUE(torch::allclose(p.value(), pb[p.key()], 1e-5, 1e-6)) << p.key();
  }
}

TEST_F(TrainerTest, DamagedCheckpointsAreSkipped) {
  auto o = options(R"({"epochs": 2})");
  o.out_dir((dir_ / "damaged").string());
  Trainer trainer(o, model(8), dataset_, train_, valid_);
  trainer.fit();
  const auto good = Trainer::latest_checkpoint(o.out_dir());
  ASSERT_TRUE(good.has_value());
  // A newer checkpoint cut in half, as a crash during a non-atomic write would leave.
  std::ifstream in(*good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(std::filesystem::path(o.out_dir()) / "checkpoint-e009-s00009999.pt", std::ios::binary)
      << bytes.substr(0, bytes.size() / 2);
  EXPECT_EQ(Trainer::latest_checkpoint(o.out_dir()), good);
  EXPECT_THROW(Trainer(o, model(8), dataset_, train_, valid_).resume(dir_ / "absent"), IoError);
}

TEST_F(TrainerTest, ConfigurationErrors) {
  EXPECT_THROW(TrainerOptions::from_config(Config::parse(R"({"epoch": 3})")), ConfigError);
  EXPECT_THROW(TrainerOptions::from_config(Config::parse(R"({"batching": "random"})")), ConfigError);
  EXPECT_THROW(TrainerOptions::from_config(Config::parse(R"({"metrics": ["acuracy"]})")), ConfigError);
  auto o = options(R"({"epochs": 1, "monitor": "valid.acuracy"})");
  Trainer trainer(o, model(9), dataset_, train_, valid_);
  try {
    trainer.fit();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'valid.accuracy'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Trainer(options(R"({"optimizer": {"type": "adamm"}})"), model(9), dataset_, train_, valid_), ConfigError);
}

TEST(Optimizers, ParameterGroupsByPattern) {
  EXPECT_TRUE(matches_pattern("encoders.text.*", "encoders.text.lstm.weight_ih_l0"));
  EXPECT_TRUE(matches_pattern("*.bias", "heads.y.mlp.layers.0.linear.bias"));
  EXPECT_TRUE(matches_pattern("*norm*", "fusion.norm.weight"));
  EXPECT_FALSE(matches_pattern("*.bias", "heads.y.bias.weight"));
  EXPECT_FALSE(matches_pattern("encoders.text.*", "encoders.price.gru.weight"));
  const NamedParameters params = {{"encoders.text.w", torch::zeros({2}, torch::requires_grad())},
                                  {"encoders.price.w", torch::zeros({2}, torch::requires_grad())},
                                  {"heads.y.bias", torch::zeros({2}, torch::requires_grad())},
                                  {"frozen", torch::zeros({2})}};
  const auto optimizer = make_optimizer(Config::parse(R"({"type": "adamw", "lr": 0.001, "weight_decay": 0.01,
      "groups": [{"params": "encoders.text.*", "lr": 1e-5}, {"params": ["*.bias"], "weight_decay": 0}]})"),
                                        params);
  ASSERT_EQ(optimizer->param_groups().size(), 3U);
  EXPECT_EQ(learning_rates(*optimizer), (std::vector<double>{1e-3, 1e-5, 1e-3}));
  EXPECT_EQ(static_cast<const torch::optim::AdamWOptions&>(optimizer->param_groups()[2].options()).weight_decay(), 0.0);
  EXPECT_EQ(optimizer->param_groups()[0].params().size(), 1U) << "frozen parameters are left out";
  const auto error = [&](const std::string& json) {
    try {
      make_optimizer(Config::parse(json), params);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error(R"({"type": "sgd", "groups": [{"params": "nothing.*"}]})").find("/groups/0/params"), std::string::npos);
  EXPECT_NE(error(R"({"type": "sgd", "groups": [{"params": "heads.*", "lrr": 1}]})").find("/groups/0/lrr"),
            std::string::npos);
  EXPECT_NE(error(R"({"type": "sgd", "nesterov": true})").find("momentum"), std::string::npos);
  EXPECT_NE(error(R"({"type": "adam", "betas": [0.9]})").find("/betas"), std::string::npos);
}

TEST(AtomicFiles, ReplaceWholeOrNotAtAll) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_atomic");
  const auto path = dir / "state.json";
  write_file_atomically(path, "first");
  write_file_atomically(path, "second version");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "second version");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1)
      << "no temporary file is left behind";
  EXPECT_THROW(write_file_atomically(dir / "missing" / "x", "y"), IoError);
  std::filesystem::remove_all(dir);
}

TEST(SealedFiles, DamageIsDetectedBeforeThePayloadIsUsed) {
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_sealed");
  const auto path = dir / "checkpoint.pt";
  const std::string payload = std::string("PK\x03\x04") + std::string(1000, 'z') + "end";
  write_sealed_file(path, payload);
  EXPECT_EQ(read_sealed_file(path, "a checkpoint", false), payload);
  const auto bytes = read_file(path);
  const auto damaged = [&](const std::string& content) -> std::string {
    write_file_atomically(path, content);
    try {
      read_sealed_file(path, "a checkpoint", false);
    } catch (const DataError& e) {
      EXPECT_EQ(e.file(), path.string());
      return e.reason();
    }
    return "accepted";
  };
  EXPECT_NE(damaged(bytes.substr(0, bytes.size() / 2)).find("truncated"), std::string::npos);
  EXPECT_NE(damaged(bytes.substr(0, 20)).find("header is incomplete"), std::string::npos);
  std::string flipped = bytes;
  flipped[flipped.size() - 10] ^= 0x01;
  EXPECT_NE(damaged(flipped).find("SHA-256 does not match"), std::string::npos);
  EXPECT_NE(damaged(payload).find("no finfuse-sealed header"), std::string::npos);
  write_file_atomically(path, payload);
  EXPECT_EQ(read_sealed_file(path, "a file", /*accept_unsealed=*/true), payload);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse::training

#include "finfuse/data/pipeline.h"
#include "finfuse/training/experiment.h"
#include "support/shared_data.h"

namespace finfuse::training {
namespace {

// The Taiwan credit-card default data (30,000 borrowers): a tabular MLP with categorical embeddings, stratified
// held-out test. Published tabular baselines reach a ROC-AUC of about 0.78.
TEST(TrainerRealData, CreditDefault) {
  FINFUSE_REQUIRE_SHARED_DATA(dir, "credit/taiwan_default.csv");
  ::setenv("FINFUSE_DATA_DIR", ::finfuse::testing::shared_data_dir().c_str(), 1);
  const auto data = data::DataConfig::from_config(Config::parse(R"({
    "tables": {"credit": {"path": "${FINFUSE_DATA_DIR}/credit/taiwan_default.csv", "kind": "static",
                          "entity_column": "ID", "categorical": ["SEX", "EDUCATION", "MARRIAGE"],
                          "label_column": "defaulted"}},
    "samples_from_table": "credit",
    "split": {"kind": "stratified", "valid_fraction": 0.1, "test_fraction": 0.2, "seed": 7},
    "dataset": {"modalities": ["numeric"], "numeric": {"scale": "robust", "clip": "winsorize"}}
  })"), ".");
  const auto pipeline = data::DataPipeline::build(data);
  const auto model = Config::parse(R"({
    "encoders": {"numeric": {"type": "mlp", "layers": [64, 32], "dropout": 0.1},
                 "categorical": {"type": "mlp", "layers": [8]}},
    "heads": {"default": {"type": "classification"}}})");
  auto options = TrainerOptions::from_config(Config::parse(R"({"epochs": 4, "batch_size": 256, "progress": "none",
      "optimizer": {"type": "adamw", "lr": 0.003}, "monitor": "valid.roc_auc",
      "metrics": ["accuracy", "roc_auc", "ks", "gini", "ece", "brier"]})"));
  const auto run = train_and_evaluate(model, options, pipeline, c10::Device(c10::DeviceType::CPU), 1);
  std::printf("credit default test: ROC-AUC %.4f, KS %.4f, Gini %.4f, ECE %.4f, accuracy %.4f (best epoch %lld)\n",
              run.test.values.at("roc_auc"), run.test.values.at("ks"), run.test.values.at("gini"),
              run.test.values.at("ece"), run.test.values.at("accuracy"), static_cast<long long>(run.fit.best_epoch + 1));
  EXPECT_GT(run.test.values.at("roc_auc"), 0.75);
  EXPECT_EQ(run.test.samples, 6000);
}

}  // namespace
}  // namespace finfuse::training

namespace finfuse::training {
namespace {

// An optimizer archive as LibTorch 1.x writes it, whose keys are printed addresses ("0x55d0c0ffee00"): read by any
// LibTorch (2.x's own reader parses such keys as the number 0 and leaves every parameter but one without a state).
TEST(OptimizerState, KeysWrittenByAnyLibTorchAreRead) {
  torch::manual_seed(3);
  auto weight = torch::randn({3, 2}).requires_grad_();
  auto bias = torch::randn({2}).requires_grad_();
  const std::vector<std::string> keys = {"0x55d0c0ffee00", "0x55d0c0ffee80"};
  torch::serialize::OutputArchive archive;
  archive.write("pytorch_version", c10::IValue(std::string("1.5.0")));
  torch::serialize::OutputArchive states(archive.compilation_unit());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    torch::optim::AdamWParamState state;
    state.step(7);
    state.exp_avg(torch::full(k == 0 ? std::vector<std::int64_t>{3, 2} : std::vector<std::int64_t>{2}, 0.5 + k));
    state.exp_avg_sq(torch::full(k == 0 ? std::vector<std::int64_t>{3, 2} : std::vector<std::int64_t>{2}, 0.25));
    torch::serialize::OutputArchive one(archive.compilation_unit());
    state.serialize(one);
    states.write(keys[k], one);
  }
  archive.write("state", states);
  torch::serialize::OutputArchive groups(archive.compilation_unit());
  groups.write("param_groups/size", torch::tensor(static_cast<std::int64_t>(1)));
  torch::serialize::OutputArchive group(archive.compilation_unit());
  group.write("params/size", torch::tensor(static_cast<std::int64_t>(2)));
  group.write("params/0", c10::IValue(keys[0]));
  group.write("params/1", c10::IValue(keys[1]));
  torch::serialize::OutputArchive options(archive.compilation_unit());
  torch::optim::AdamWOptions(0.5).serialize(options);
  group.write("options", options);
  groups.write("param_groups/0", group);
  archive.write("param_groups", groups);
  std::ostringstream bytes;
  archive.save_to(bytes);

  torch::optim::AdamW optimizer(std::vector<torch::Tensor>{weight, bias}, torch::optim::AdamWOptions(0.01));
  torch::serialize::InputArchive in;
  std::istringstream stream(bytes.str());
  in.load_from(stream);
  load_optimizer_state(optimizer, in);
  ASSERT_EQ(optimizer.state().size(), 2U);
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& p = k == 0 ? weight : bias;
#if TORCH_VERSION_MAJOR >= 2
    const auto& state = static_cast<const torch::optim::AdamWParamState&>(*optimizer.state().at(p.unsafeGetTensorImpl()));
#else
    const auto& state = static_cast<const torch::optim::AdamWParamState&>(
        *optimizer.state().at(c10::guts::to_string(p.unsafeGetTensorImpl())));
#endif
    EXPECT_EQ(state.step(), 7);
    EXPECT_TRUE(torch::equal(state.exp_avg(), torch::full_like(p, 0.5 + static_cast<double>(k))));
  }
  EXPECT_DOUBLE_EQ(optimizer.param_groups()[0].options().get_lr(), 0.01) << "the run's options stay";
  // A step runs on the restored moments.
  (weight.sum() + bias.sum()).backward();
  EXPECT_NO_THROW(optimizer.step());
}

}  // namespace
}  // namespace finfuse::training
