// The training objective against a hand computation (adversarial term, hinge loss, L2 penalty, the gradient with the
// perturbation held constant), the trainer's step against the same objective applied by hand, and warm starts from
// checkpoints and weights files.
#include "finfuse/training/objective.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/models/head.h"
#include "finfuse/training/run_config.h"
#include "finfuse/training/trainer.h"
#include "finfuse/training/warm_start.h"
#include "support/credit_dataset.h"
#include "support/cuda.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>

namespace finfuse::training {
namespace {

// An encoder that hands its input on unchanged: the fused vector of a one-modality model is then the input itself.
class IdentityEncoderImpl : public encoders::Encoder {
 public:
  explicit IdentityEncoderImpl(std::int64_t width) : Encoder(encoders::ModalitySpec("x", {width})), width_(width) {}
  encoders::EncoderOutput encode(const data::ModalityBatch& input) override { return {input.values, {}, {}}; }
  std::int64_t output_size() const override { return width_; }
  Json options_json() const override { return Json{{"type", "identity"}}; }

 private:
  std::int64_t width_;
};
TORCH_MODULE(IdentityEncoder);

// Two inputs, a linear two-class head with the hinge loss: logits s = W x + b.
models::MultimodalModel tiny_model() {
  auto head = models::ClassificationHead(models::ClassificationHeadOptions(2).loss(nn::HingeLoss()), 2);
  models::MultimodalModel model(
      models::MultimodalModelOptions().encoder("x", IdentityEncoder(2)).head("y", head));
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("heads.y.", 0) != 0) {
      continue;
    }
    if (p.value().dim() == 2) {
      p.value().copy_(torch::tensor({{0.5, -0.25}, {1.0, 0.5}}));
    } else {
      p.value().copy_(torch::tensor({0.1, -0.2}));
    }
  }
  return model;
}

data::Batch tiny_batch() {
  data::Batch batch;
  const auto x = torch::tensor({{1.0, 0.4}, {-0.2, 0.6}, {2.0, 2.0}});
  batch.modalities["x"] = data::ModalityBatch{x, torch::Tensor(), torch::ones({3}, torch::kBool)};
  batch.target = torch::tensor({1.0, 0.0, 1.0});
  return batch;
}

torch::Tensor head_parameter(models::MultimodalModel& model, int dim) {
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("heads.y.", 0) == 0 && p.value().dim() == dim) {
      return p.value();
    }
  }
  throw Error("no head parameter");
}

// By hand: v = w1 - w0 = (0.5, 0.75), b1 - b0 = -0.3, so the margins d = s1 - s0 are 0.5 (y = 1), 0.05 (y = 0) and
// 2.2 (y = 1), and the hinge losses 0.5, 1.05 and 0. The loss gradient at each active sample's fused vector points
// along -v (y = 1) or +v (y = 0); normalised and scaled, it moves the margin against the label by epsilon ||v||. The
// third sample's loss is flat, its gradient zero, and it stays where it is.
TEST(Objective, AdversarialHingeAndL2ByHand) {
  const double eps = 0.1, weight = 0.5, lambda = 0.2;
  const double norm_v = std::sqrt(0.5 * 0.5 + 0.75 * 0.75);
  const double clean = (0.5 + 1.05 + 0.0) / 3;
  const double adversarial = (0.5 + eps * norm_v + 1.05 + eps * norm_v + 0.0) / 3;
  const double penalty = 0.5 * lambda * (0.25 + 0.0625 + 1.0 + 0.25 + 0.01 + 0.04);
  for (const std::string target : {"fused", "x"}) {
    auto model = tiny_model();
    const TrainingObjective objective(AdversarialOptions().weight(weight).epsilon(eps).target(target),
                                      {L2Penalty().params({"heads.*"}).weight(lambda)}, *model);
    const auto terms = objective(*model, tiny_batch());
    EXPECT_NEAR(terms.clean.total.item<double>(), clean, 1e-6) << target;
    EXPECT_NEAR(terms.adversarial.item<double>(), adversarial, 1e-6) << target;
    EXPECT_NEAR(terms.penalty.item<double>(), penalty, 1e-6) << target;
    EXPECT_NEAR(terms.total.item<double>(), clean + weight * adversarial + penalty, 1e-6) << target;

    // The gradient of w1 (the class-1 row) with the perturbation held constant: the clean part sums -sign x over the
    // active samples, the adversarial part -sign (x + delta), the penalty adds lambda w1.
    terms.total.backward();
    const double u0 = 0.5 / norm_v, u1 = 0.75 / norm_v;  // v / ||v||
    const double clean_g[2] = {(-1.0 + -0.2) / 3, (-0.4 + 0.6) / 3};
    // Sample 1 (y = 1) moves to x - eps u and contributes -(x - eps u); sample 2 (y = 0) moves to x + eps u and
    // contributes +(x + eps u): together the clean sum plus 2 eps u.
    const double adv_g[2] = {clean_g[0] + 2 * eps * u0 / 3, clean_g[1] + 2 * eps * u1 / 3};
    const double w1[2] = {1.0, 0.5};
    const auto grad = head_parameter(model, 2).grad();
    for (int j = 0; j < 2; ++j) {
      const double expected = clean_g[j] + weight * adv_g[j] + lambda * w1[j];
      EXPECT_NEAR(grad[1][j].item<double>(), expected, 1e-6) << target << " w1[" << j << "]";
      EXPECT_NEAR(grad[0][j].item<double>(), -(clean_g[j] + weight * adv_g[j]) + lambda * (j == 0 ? 0.5 : -0.25),
                  1e-6)
          << target << " w0[" << j << "]";
    }
  }
}

TEST(Objective, WithoutOptionsItIsTheModelsLoss) {
  auto model = tiny_model();
  const TrainingObjective objective(std::nullopt, {}, *model);
  const auto terms = objective(*model, tiny_batch());
  EXPECT_FALSE(terms.adversarial.defined());
  EXPECT_FALSE(terms.penalty.defined());
  EXPECT_NEAR(terms.total.item<double>(), (0.5 + 1.05) / 3, 1e-6);
}

TEST(Objective, ConfigurationErrors) {
  auto model = tiny_model();
  try {
    TrainingObjective(AdversarialOptions().target("fusd"), {}, *model);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/adversarial/target");
    EXPECT_NE(std::string(e.what()).find("did you mean 'fused'"), std::string::npos) << e.what();
  }
  try {
    TrainingObjective(std::nullopt, {L2Penalty().params({"heads.*"}).weight(1), L2Penalty().params({"fusion.*"}).weight(1)},
                      *model);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/l2/1/params");
  }
  // From configuration: one pattern as a string, errors at the element's path.
  const auto options = TrainerOptions::from_config(
      Config::parse(R"({"l2": [{"params": "heads.*", "weight": 0.5}], "adversarial": {"epsilon": 0.01}})"));
  ASSERT_EQ(options.l2().size(), 1u);
  EXPECT_EQ(options.l2()[0].params(), std::vector<std::string>{"heads.*"});
  EXPECT_DOUBLE_EQ(options.adversarial()->epsilon(), 0.01);
  EXPECT_DOUBLE_EQ(options.adversarial()->weight(), 1.0);
  for (const auto& [json, pointer] : std::vector<std::pair<std::string, std::string>>{
           {R"({"l2": [{"params": "heads.*"}]})", "/l2/0/weight"},
           {R"({"l2": [{"params": "heads.*", "weight": 1, "wieght": 2}]})", "/l2/0/wieght"},
           {R"({"l2": {"params": "heads.*"}})", "/l2"},
           {R"({"adversarial": {"epsilon": 0}})", "/adversarial/epsilon"},
           {R"({"warm_start": {"params": ["*"]}})", "/warm_start/path"}}) {
    try {
      TrainerOptions::from_config(Config::parse(json));
      ADD_FAILURE() << json;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.pointer(), pointer) << json << ": " << e.what();
    }
  }
}

// A relative warm-start path is read from the configuration's folder, as the data paths are.
TEST(Objective, WarmStartPathsAreAnchoredLikeDataPaths) {
  const auto run = RunConfig::from_config(Config::parse(R"({
      "data": {"prices": {"path": "prices.csv"}, "split": {"valid_start": "2015-08-01", "test_start": "2015-10-01"}},
      "model": {}, "training": {"warm_start": {"path": "runs/alstm/seed-{seed}/best.pt"}}})"),
                                          "/base/configs");
  EXPECT_EQ(run.training.warm_start()->path().string(), "/base/configs/runs/alstm/seed-{seed}/best.pt");
  EXPECT_EQ(run.data.prices->path.string(), "/base/configs/prices.csv");
}

class TrainerObjectiveTest : public finfuse::testing::CreditDatasetTest {
 protected:
  TrainerObjectiveTest() : CreditDatasetTest("finfuse_objective", 23) {}

  models::MultimodalModel model(std::uint64_t seed, std::int64_t width = 16) const {
    seed_everything(seed);
    return models::MultimodalModel(
        Config(Json{{"encoders", {{"numeric", {{"type", "mlp"}, {"layers", {width}}}}}},
                    {"heads", {{"default", {{"type", "classification"}, {"loss", "hinge"}}}}}}),
        models::modality_specs(*dataset_), label_context(*dataset_, train_));
  }
};

// On the GPU the objective is the CPU's, and float16 mixed precision with adversarial training learns: the
// perturbation's direction comes from each sample's own loss, so it does not underflow on a batch of 100.
TEST_F(TrainerObjectiveTest, AdversarialTrainingOnTheGpu_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  const c10::Device cuda(c10::DeviceType::CUDA, 0);
  auto cpu_model = tiny_model();
  auto gpu_model = tiny_model();
  gpu_model->to(cuda);
  const AdversarialOptions adversarial = AdversarialOptions().weight(0.5).epsilon(0.1);
  const TrainingObjective on_cpu(adversarial, {L2Penalty().params({"heads.*"}).weight(0.2)}, *cpu_model);
  const TrainingObjective on_gpu(adversarial, {L2Penalty().params({"heads.*"}).weight(0.2)}, *gpu_model);
  EXPECT_NEAR(on_gpu(*gpu_model, tiny_batch().to(cuda)).total.item<double>(),
              on_cpu(*cpu_model, tiny_batch()).total.item<double>(), 1e-5);
  for (const bool amp : {false, true}) {
    auto options = TrainerOptions::from_config(Config::parse(R"({
        "epochs": 10, "batch_size": 100, "progress": "none", "optimizer": {"type": "adam", "lr": 0.02},
        "adversarial": {"weight": 1.0, "epsilon": 0.05}, "monitor": "valid.roc_auc"})"));
    options.amp(amp);
    Trainer trainer(options, model(6), dataset_, train_, valid_, cuda);
    const auto result = trainer.fit();
    const auto& last = result.history.back().values;
    EXPECT_TRUE(std::isfinite(last.at("train.adversarial_loss"))) << "amp " << amp;
    EXPECT_GE(last.at("train.adversarial_loss"), last.at("train.loss")) << "amp " << amp;
    EXPECT_GT(last.at("valid.roc_auc"), 0.7) << "amp " << amp;
  }
}

// One full-batch SGD step of the trainer equals the objective's gradient applied by hand, and the epoch record
// reports the objective's terms.
TEST_F(TrainerObjectiveTest, TheTrainersStepFollowsTheObjective) {
  auto options = TrainerOptions::from_config(Config::parse(R"({
      "epochs": 1, "batch_size": 300, "batching": "sequential", "progress": "none", "prefetch": 0,
      "optimizer": {"type": "sgd", "lr": 0.1},
      "adversarial": {"weight": 0.5, "epsilon": 0.1}, "l2": [{"params": "heads.*", "weight": 0.01}]})"));
  ASSERT_EQ(train_.size(), 300u);
  Trainer trainer(options, model(5), dataset_, train_, valid_);
  const auto result = trainer.fit();

  auto by_hand = model(5);
  by_hand->train();
  const TrainingObjective objective(options.adversarial(), options.l2(), *by_hand);
  const auto terms = objective(*by_hand, dataset_->collate(train_));
  terms.total.backward();
  std::map<std::string, torch::Tensor> expected;
  for (const auto& p : by_hand->named_parameters()) {
    expected[p.key()] = p.value().detach() - 0.1 * p.value().grad();
  }
  for (const auto& p : trainer.model()->named_parameters()) {
    EXPECT_TRUE(torch::allclose(p.value(), expected.at(p.key()), 1e-5, 1e-6)) << p.key();
  }
  const auto& record = result.history.at(0).values;
  EXPECT_NEAR(record.at("train.loss"), terms.clean.total.item<double>(), 1e-5);
  EXPECT_NEAR(record.at("train.adversarial_loss"), terms.adversarial.item<double>(), 1e-5);
  EXPECT_NEAR(record.at("train.l2_penalty"), terms.penalty.item<double>(), 1e-6);
  EXPECT_GT(record.at("train.adversarial_loss"), record.at("train.loss"));  // the perturbation raises the loss
}

TEST_F(TrainerObjectiveTest, WarmStartsFromCheckpointsAndWeights) {
  auto first = TrainerOptions::from_config(Config::parse(
      R"({"epochs": 2, "progress": "none", "restore_best": false, "optimizer": {"type": "adam", "lr": 0.01}})"));
  first.out_dir((dir_ / "first").string());
  Trainer trained(first, model(1), dataset_, train_, valid_);
  trained.fit();

  // A folder of checkpoints: the newest, which holds the final weights. "{seed}" becomes the run's seed.
  auto second = TrainerOptions::from_config(Config::parse(R"({"epochs": 1, "progress": "none"})"));
  second.seed(7);
  std::filesystem::create_directories(dir_ / "seed-7");
  std::filesystem::copy(dir_ / "first", dir_ / "seed-7" / "first", std::filesystem::copy_options::recursive);
  second.warm_start(WarmStartOptions().path((dir_ / "seed-{seed}" / "first").string()));
  Trainer warm(second, model(2), dataset_, train_, valid_);
  for (const auto& p : trained.model()->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), warm.model()->named_parameters()[p.key()])) << p.key();
  }

  // A checkpoint file and a best.pt, selected tensors only.
  auto fresh = model(3);
  std::string head_weight;
  for (const auto& p : fresh->named_parameters()) {
    if (p.key().rfind("heads.", 0) == 0 && p.value().dim() == 2) {
      head_weight = p.key();
    }
  }
  ASSERT_FALSE(head_weight.empty());
  const auto untouched = fresh->named_parameters()[head_weight].clone();
  const auto checkpoint = Trainer::latest_checkpoint(dir_ / "first");
  ASSERT_TRUE(checkpoint.has_value());
  auto report = warm_start(*fresh, WarmStartOptions().path(*checkpoint).params({"encoders.*"}));
  EXPECT_EQ(report.kind, "checkpoint");
  EXPECT_FALSE(report.loaded.empty());
  EXPECT_TRUE(torch::equal(fresh->named_parameters()[head_weight], untouched));
  report = warm_start(*fresh, WarmStartOptions().path(dir_ / "first" / "best.pt"));
  EXPECT_EQ(report.kind, "weights");
  EXPECT_TRUE(report.kept.empty());

  // Another architecture: strict refuses, naming the tensor and both shapes; non-strict keeps what does not fit.
  auto wider = model(4, 24);
  try {
    warm_start(*wider, WarmStartOptions().path(dir_ / "first"));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("there and [24"), std::string::npos) << e.what();
  }
  report = warm_start(*wider, WarmStartOptions().path(dir_ / "first").strict(false));
  EXPECT_FALSE(report.kept.empty());
  EXPECT_THROW(warm_start(*wider, WarmStartOptions().path(dir_ / "first").params({"nothing.*"})), ConfigError);
  EXPECT_THROW(warm_start(*wider, WarmStartOptions().path(dir_ / "missing")), IoError);
  std::filesystem::create_directories(dir_ / "empty");
  EXPECT_THROW(warm_start(*wider, WarmStartOptions().path(dir_ / "empty")), IoError);
}

}  // namespace
}  // namespace finfuse::training
