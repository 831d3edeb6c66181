// Losses against hand-computed values and finite differences, and training with every loss on learnable generated
// data.
#include "finfuse/nn/loss.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/models/multimodal_model.h"

#include <gtest/gtest.h>
#include <torch/optim/adam.h>

#include <cctype>
#include <cmath>
#include <functional>

namespace finfuse::nn {
namespace {

double value(const std::string& json, const torch::Tensor& prediction, const torch::Tensor& target,
             const torch::Tensor& day = {}, const LossContext& context = {}) {
  return make_loss(Config::parse(json), context)->forward(prediction, target, day).item<double>();
}

double log_softmax(const std::vector<double>& z, std::size_t k) {
  double total = 0.0;
  for (const double v : z) {
    total += std::exp(v);
  }
  return z[k] - std::log(total);
}

TEST(Losses, CrossEntropyWithClassWeightsAndLabelSmoothingByHand) {
  const auto logits = torch::tensor({{1.0, 0.0, -1.0}, {0.5, 0.5, 2.0}}, torch::kFloat64);
  const auto target = torch::tensor({0, 2}, torch::kInt64);
  const std::vector<double> w = {1.0, 2.0, 3.0};
  const double eps = 0.1;
  // PyTorch's definition: per sample (1 - eps) w_y (-log p_y) + eps / C sum_c w_c (-log p_c); divided by sum w_y.
  const std::vector<std::vector<double>> z = {{1.0, 0.0, -1.0}, {0.5, 0.5, 2.0}};
  const std::vector<std::size_t> y = {0, 2};
  double total = 0.0;
  for (std::size_t i = 0; i < 2; ++i) {
    double smooth = 0.0;
    for (std::size_t c = 0; c < 3; ++c) {
      smooth += w[c] * -log_softmax(z[i], c);
    }
    total += (1 - eps) * w[y[i]] * -log_softmax(z[i], y[i]) + eps / 3.0 * smooth;
  }
  const double expected = total / (w[0] + w[2]);
  EXPECT_NEAR(value(R"({"type": "cross_entropy", "class_weights": [1, 2, 3], "label_smoothing": 0.1})", logits, target,
                    {}, LossContext{3, {}}),
              expected, 1e-6);
  // "balanced": n / (classes x count): counts 6 and 2 give weights 8/12 and 8/4.
  const auto loss = make_loss(Config::parse(R"({"type": "cross_entropy", "class_weights": "balanced"})"),
                              LossContext{2, {6.0, 2.0}});
  EXPECT_EQ(loss->options_json()["class_weights"], Json({8.0 / 12.0, 2.0}));
}

TEST(Losses, FocalByHand) {
  const auto logits = torch::tensor({{2.0, 0.0}, {0.0, 1.0}}, torch::kFloat64);
  const auto target = torch::tensor({0, 0}, torch::kInt64);
  const double p0 = std::exp(log_softmax({2.0, 0.0}, 0));
  const double p1 = std::exp(log_softmax({0.0, 1.0}, 0));
  const double expected = (-std::pow(1 - p0, 2) * std::log(p0) - std::pow(1 - p1, 2) * std::log(p1)) / 2;
  EXPECT_NEAR(value(R"({"type": "focal", "gamma": 2})", logits, target), expected, 1e-9);
  // gamma 0 is cross-entropy.
  EXPECT_NEAR(value(R"({"type": "focal", "gamma": 0})", logits, target), value(R"("cross_entropy")", logits, target),
              1e-9);
}

TEST(Losses, BceHuberByHand) {
  // Two-class logits: the log-odds is z1 - z0.
  const auto logits = torch::tensor({{0.0, 1.0}, {0.5, -0.5}}, torch::kFloat64);
  const auto target = torch::tensor({1.0, 0.0}, torch::kFloat64);
  const auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  const double expected = (-3.0 * std::log(sigmoid(1.0)) - std::log(1 - sigmoid(-1.0))) / 2;
  EXPECT_NEAR(value(R"({"type": "bce", "pos_weight": 3})", logits, target), expected, 1e-9);
  const auto p = torch::tensor({0.0, 3.0}, torch::kFloat64);
  EXPECT_NEAR(value(R"({"type": "huber", "delta": 1})", p, torch::tensor({0.5, 0.0}, torch::kFloat64)),
              (0.5 * 0.25 + (3.0 - 0.5)) / 2, 1e-12);
}

TEST(Losses, CrossSectionalLossesByHand) {
  // IC: day 1 corr([1, 2, 3], [.01, .03, .02]) = 0.5; day 2 exactly reversed: -1. Loss: -(0.5 - 1) / 2.
  const auto s = torch::tensor({1.0, 2.0, 3.0, 3.0, 2.0, 1.0}, torch::kFloat64);
  const auto y = torch::tensor({0.01, 0.03, 0.02, 0.01, 0.02, 0.03}, torch::kFloat64);
  const auto day = torch::tensor({7, 7, 7, 9, 9, 9}, torch::kInt32);
  EXPECT_NEAR(value(R"("ic")", s, y, day), 0.25, 1e-6);
  // RankNet: one pair, sample 0 should rank above 1 by a margin of 1: log(1 + e^-1).
  EXPECT_NEAR(value(R"("ranknet")", torch::tensor({1.0, 0.0}, torch::kFloat64), torch::tensor({1.0, 0.0}, torch::kFloat64)),
              std::log(1 + std::exp(-1.0)), 1e-9);
  // ListNet with equal scores: the cross-entropy against a uniform prediction is log 2.
  EXPECT_NEAR(value(R"("listnet")", torch::tensor({0.0, 0.0}, torch::kFloat64), torch::tensor({1.0, 0.0}, torch::kFloat64)),
              std::log(2.0), 1e-9);
  // ListMLE: targets order sample 1 first: (log(e^a + e^b) - b + 0) / 2 with a = 0.3, b = -0.2.
  EXPECT_NEAR(value(R"("listmle")", torch::tensor({0.3, -0.2}, torch::kFloat64), torch::tensor({0.0, 1.0}, torch::kFloat64)),
              (std::log(std::exp(0.3) + std::exp(-0.2)) + 0.2) / 2, 1e-9);
  // A day of one sample contributes nothing; a batch of such days gives a zero that still has a gradient.
  const auto single = torch::tensor({1.0, 2.0}, torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true));
  const auto zero = make_loss(Config(Json("ic")))->forward(single, torch::tensor({1.0, 2.0}, torch::kFloat64),
                                                          torch::tensor({1, 2}, torch::kInt32));
  EXPECT_EQ(zero.item<double>(), 0.0);
  zero.backward();
}

// Central differences in float64 against autograd, element by element.
void expect_finite_differences(const std::function<torch::Tensor(const torch::Tensor&)>& f, torch::Tensor x,
                               const std::string& what) {
  x = x.detach().clone().requires_grad_(true);
  f(x).backward();
  const auto analytic = x.grad().clone();
  const double eps = 1e-6;
  auto flat = x.detach().view(-1);
  for (std::int64_t i = 0; i < flat.numel(); ++i) {
    const double saved = flat[i].item<double>();
    flat[i] = saved + eps;
    const double up = f(x.detach()).item<double>();
    flat[i] = saved - eps;
    const double down = f(x.detach()).item<double>();
    flat[i] = saved;
    const double numeric = (up - down) / (2 * eps);
    EXPECT_NEAR(analytic.view(-1)[i].item<double>(), numeric, 1e-6 + 1e-5 * std::abs(numeric)) << what << " [" << i << "]";
  }
}

TEST(Losses, HingeByHand) {
  // Two classes: the binary hinge loss on s1 - s0. Sample 1 (y = 1, s1 - s0 = 0.25): 1 - 0.25 = 0.75; sample 2
  // (y = 0, s1 - s0 = -2): max(0, 1 - 2) = 0; sample 3 (y = 0, s1 - s0 = 0.5): 1.5.
  const auto two = torch::tensor({{0.5, 0.75}, {1.0, -1.0}, {0.0, 0.5}}, torch::kFloat64);
  const auto y2 = torch::tensor({1, 0, 0}, torch::kInt64);
  EXPECT_NEAR(value(R"("hinge")", two, y2), (0.75 + 0.0 + 1.5) / 3, 1e-12);
  // One score per sample reads the same: the differences above as scores, targets as 0/1.
  EXPECT_NEAR(value(R"("hinge")", torch::tensor({0.25, -2.0, 0.5}, torch::kFloat64),
                    torch::tensor({1.0, 0.0, 0.0}, torch::kFloat64)),
              0.75, 1e-12);
  // Three classes, margin 2: scores (1, 0.5, -1), y = 0: max(0, 2 - 0.5) + max(0, 2 - 2) = 1.5; scores (0, 3, 1),
  // y = 2: max(0, 2 - 1 + 0) + max(0, 2 - 1 + 3) = 1 + 4 = 5.
  const auto three = torch::tensor({{1.0, 0.5, -1.0}, {0.0, 3.0, 1.0}}, torch::kFloat64);
  EXPECT_NEAR(value(R"({"type": "hinge", "margin": 2})", three, torch::tensor({0, 2}, torch::kInt64)), 3.25, 1e-12);
  EXPECT_THROW(value(R"("hinge")", three, torch::tensor({0, 3}, torch::kInt64)), ShapeError);
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  seed_everything(3);
  const auto day = torch::tensor({1, 1, 1, 1, 2, 2, 2}, torch::kInt32);
  const auto values = torch::randn({7}, torch::kFloat64);
  const auto classes = torch::randint(0, 3, {7}, torch::kInt64);
  for (const std::string json : {R"("mse")", R"({"type": "huber", "delta": 0.5})", R"("ic")", R"("ranknet")",
                                 R"({"type": "listnet", "temperature": 0.5})", R"("listmle")"}) {
    const auto loss = make_loss(Config::parse(json));
    expect_finite_differences([&](const torch::Tensor& x) { return loss->forward(x, values, day); },
                              torch::randn({7}, torch::kFloat64), json);
  }
  for (const std::string json : {R"({"type": "cross_entropy", "label_smoothing": 0.2, "class_weights": [1, 2, 0.5]})",
                                 R"({"type": "focal", "gamma": 1.5})", R"({"type": "hinge", "margin": 0.5})"}) {
    const auto loss = make_loss(Config::parse(json), LossContext{3, {}});
    expect_finite_differences([&](const torch::Tensor& x) { return loss->forward(x, classes); },
                              torch::randn({7, 3}, torch::kFloat64), json);
  }
}

TEST(Losses, ConfigurationErrors) {
  const auto message = [](const std::string& json, const LossContext& context = {}) {
    try {
      make_loss(Config::parse(json), context);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"("rankent")").find("did you mean 'ranknet'"), std::string::npos);
  EXPECT_NE(message(R"({"type": "cross_entropy", "class_weights": [1, 2]})", LossContext{3, {}}).find("2 weights for 3"),
            std::string::npos);
  EXPECT_NE(message(R"({"type": "cross_entropy", "class_weights": "balanced"})", LossContext{2, {}}).find("training labels"),
            std::string::npos);
  EXPECT_NE(message(R"({"type": "focal", "gama": 2})").find("/gama"), std::string::npos);
  try {
    models::MultimodalModel(Config::parse(R"({"encoders": {"numeric": {"type": "mlp", "layers": [4]}},
                                              "heads": {"y": {"type": "classification", "loss": "mse"}}})"),
                            std::vector<encoders::ModalitySpec>{encoders::ModalitySpec("numeric", {3})});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/heads/y/loss");
  }
  EXPECT_THROW(make_loss(Config(Json("mse")))->forward(torch::zeros({3, 2}), torch::zeros({3})), ShapeError);
}

// A numeric-only model learns each loss on generated data with 8 samples per day.
class EveryLoss : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryLoss, TheLossFallsOnLearnableData) {
  seed_everything(12);
  const std::int64_t b = 96;
  data::Batch batch;
  const auto x = torch::randn({b, 4});
  const auto signal = x.select(1, 0) - 0.5 * x.select(1, 1);
  batch.modalities["numeric"] = data::ModalityBatch{x, torch::Tensor(), torch::ones({b}, torch::kBool)};
  batch.forward_return = signal * 0.01;
  batch.day = (torch::arange(b) / 8).to(torch::kInt32);
  batch.entity = torch::arange(b) % 8;
  const auto head = Config::parse(GetParam());
  batch.target = head.get<std::string>("type") == "classification" ? (signal > 0).to(torch::kFloat32) : signal;
  models::MultimodalModel model(
      Config(Json{{"encoders", {{"numeric", {{"type", "mlp"}, {"layers", {16}}}}}}, {"heads", {{"y", head.json()}}}}),
      std::vector<encoders::ModalitySpec>{encoders::ModalitySpec("numeric", {4})}, LossContext{0, {48.0, 48.0}});
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 60; ++step) {
    optimizer.zero_grad();
    const auto loss = model->loss(model->forward(batch), batch).total;
    loss.backward();
    optimizer.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  // Correlation and ranking losses are bounded below by -1 or by a positive entropy: compare the fall with the room.
  EXPECT_LT(last, first - 0.3 * std::abs(first)) << GetParam() << ": " << first << " -> " << last;
}

INSTANTIATE_TEST_SUITE_P(
    Losses, EveryLoss,
    ::testing::Values(R"({"type": "classification", "loss": "cross_entropy"})",
                      R"({"type": "classification", "loss": {"type": "cross_entropy", "class_weights": "balanced"}})",
                      R"({"type": "classification", "loss": {"type": "focal", "gamma": 2}})",
                      R"({"type": "classification", "loss": {"type": "bce", "pos_weight": 2}})",
                      R"({"type": "classification", "loss": "hinge"})",
                      R"({"type": "regression", "loss": "mse"})", R"({"type": "regression", "loss": "huber"})",
                      R"({"type": "regression", "loss": "ic"})", R"({"type": "ranking", "loss": "ranknet"})",
                      R"({"type": "ranking", "loss": {"type": "listnet", "temperature": 0.1}})",
                      R"({"type": "ranking", "loss": "listmle"})"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      // A readable name from the JSON: its letters and digits, runs of anything else as one underscore.
      std::string name;
      for (const char c : info.param) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
          name += c;
        } else if (!name.empty() && name.back() != '_') {
          name += '_';
        }
      }
      return name + std::to_string(info.index);
    });

// Losses built in C++ from their options compute what the registry builds from configuration, and write the options
// that rebuild them.
TEST(Losses, TypedLossesMatchTheConfiguredOnes) {
  const auto logits = torch::randn({9, 3}, torch::kFloat64);
  const auto classes = torch::tensor({0, 1, 2, 2, 1, 0, 1, 1, 2}, torch::kInt64);
  const LossContext context{3, {2.0, 4.0, 3.0}};
  const FocalLoss focal(FocalLossOptions().gamma(1.5).class_weights("balanced"), context);
  const auto configured = make_loss(Config::parse(R"({"type": "focal", "gamma": 1.5, "class_weights": "balanced"})"),
                                    context);
  EXPECT_TRUE(torch::allclose(focal.forward(logits, classes), configured->forward(logits, classes), 0, 0));
  EXPECT_EQ(focal.options_json(), configured->options_json());
  EXPECT_EQ(make_loss(Config(focal.options_json()), context)->options_json(), focal.options_json());
  const CrossEntropyLoss smoothed(CrossEntropyLossOptions().label_smoothing(0.1).class_weights(Json({1.0, 2.0, 0.5})),
                                  context);
  EXPECT_TRUE(torch::allclose(
      smoothed.forward(logits, classes),
      make_loss(Config(smoothed.options_json()), context)->forward(logits, classes), 0, 0));
  const auto values = torch::randn({9}, torch::kFloat64);
  const auto targets = torch::randn({9}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(HuberLoss(HuberLossOptions().delta(0.5)).forward(values, targets),
                              make_loss(Config::parse(R"({"type": "huber", "delta": 0.5})"))->forward(values, targets),
                              0, 0));
  // Weights that do not fit the classes are refused at class_weights.
  try {
    CrossEntropyLoss(CrossEntropyLossOptions().class_weights(Json({1.0, 2.0})), context);
    FAIL() << "two weights for three classes were accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/class_weights");
    EXPECT_NE(e.reason().find("2 weights for 3 classes"), std::string::npos) << e.reason();
  }
  // A head takes a typed loss.
  EXPECT_EQ(models::ClassificationHeadOptions(3).loss(focal).loss(), focal.options_json());
}

}  // namespace
}  // namespace finfuse::nn
