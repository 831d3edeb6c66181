#include "finfuse/nn/mlp.h"

#include "finfuse/core/device.h"
#include "finfuse/core/random.h"
#include "support/cuda.h"

#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <gtest/gtest.h>

#include <sstream>

namespace finfuse::nn {
namespace {

class MlpTest : public ::testing::Test {
 protected:
  void SetUp() override { seed_everything(0); }
};

TEST_F(MlpTest, OutputShapeAndParameterCount) {
  Mlp mlp(MlpOptions(4, {8, 2}));
  EXPECT_EQ(mlp->forward(torch::randn({3, 4})).sizes(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(mlp->output_size(), 2);
  // (4*8 + 8) + (8*2 + 2)
  EXPECT_EQ(mlp->parameter_count(), 58);
}

TEST_F(MlpTest, LeadingDimensionsAreKept) {
  Mlp mlp(MlpOptions(5, {6}).norm("batch"));
  mlp->eval();
  EXPECT_EQ(mlp->forward(torch::randn({2, 7, 5})).sizes(), (std::vector<std::int64_t>{2, 7, 6}));
}

TEST_F(MlpTest, ShapeMismatchNamesBothShapes) {
  Mlp mlp(MlpOptions(8, {4}));
  try {
    mlp->forward(torch::randn({4, 7}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("Mlp: expected input of shape [..., 8], got [4, 7]"), std::string::npos)
        << e.what();
  }
}

TEST_F(MlpTest, BatchNormWithOneTrainingSampleIsAClearError) {
  Mlp mlp(MlpOptions(3, {4}).norm("batch"));
  EXPECT_THROW(mlp->forward(torch::randn({1, 3})), ShapeError);
  mlp->eval();
  EXPECT_NO_THROW(mlp->forward(torch::randn({1, 3})));
}

TEST_F(MlpTest, LinearOutputWhenNotActivated) {
  // A single identity-initialised linear layer with no output activation must reproduce its input.
  Mlp mlp(MlpOptions(3, {3}).activate_output(false).activation("relu"));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : mlp->named_parameters()) {
      if (p.key().find("weight") != std::string::npos) {
        p.value().copy_(torch::eye(3));
      } else {
        p.value().zero_();
      }
    }
  }
  const auto x = torch::tensor({{-1.0f, 2.0f, -3.0f}});
  EXPECT_TRUE(torch::allclose(mlp->forward(x), x));
}

TEST_F(MlpTest, ResidualAddsTheInputWhereWidthsMatch) {
  Mlp plain(MlpOptions(4, {4, 4, 2}).activation("tanh"));
  Mlp residual(MlpOptions(4, {4, 4, 2}).activation("tanh").residual(true));
  {
    torch::NoGradGuard no_grad;
    const auto from = plain->named_parameters();
    for (auto& p : residual->named_parameters()) {
      p.value().copy_(from[p.key()]);
    }
  }
  const auto x = torch::randn({5, 4});
  // Manual reference: h1 = x + tanh(L0 x), h2 = h1 + tanh(L1 h1), out = tanh(L2 h2) (width changes: no skip).
  const auto params = plain->named_parameters();
  auto layer = [&](int i, const torch::Tensor& h) {
    return torch::tanh(torch::nn::functional::linear(h, params["layers." + std::to_string(i) + ".linear.weight"],
                                                     params["layers." + std::to_string(i) + ".linear.bias"]));
  };
  const auto h1 = x + layer(0, x);
  const auto h2 = h1 + layer(1, h1);
  EXPECT_TRUE(torch::allclose(residual->forward(x), layer(2, h2), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(plain->forward(x), residual->forward(x)));
}

TEST_F(MlpTest, StateDictNamesAreStable) {
  Mlp mlp(MlpOptions(4, {8, 2}).norm("layer"));
  std::vector<std::string> names;
  for (const auto& p : mlp->named_parameters()) {
    names.push_back(p.key());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.linear.weight", "layers.0.linear.bias", "layers.0.norm.weight",
                                             "layers.0.norm.bias", "layers.1.linear.weight", "layers.1.linear.bias",
                                             "layers.1.norm.weight", "layers.1.norm.bias"}));
}

TEST_F(MlpTest, LearnsXor) {
  Mlp mlp(MlpOptions(2, {16, 1}).activation("tanh").activate_output(false));
  const auto x = torch::tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}});
  const auto y = torch::tensor({{0.f}, {1.f}, {1.f}, {0.f}});
  torch::optim::Adam optimizer(mlp->parameters(), torch::optim::AdamOptions(0.05));
  for (int step = 0; step < 300; ++step) {
    optimizer.zero_grad();
    const auto loss = torch::binary_cross_entropy_with_logits(mlp->forward(x), y);
    loss.backward();
    optimizer.step();
  }
  EXPECT_TRUE(torch::equal((mlp->forward(x) > 0).to(torch::kFloat), y));
}

TEST_F(MlpTest, CloneIsDeep) {
  Mlp mlp(MlpOptions(3, {5, 2}).dropout(0.1));
  auto copy = std::dynamic_pointer_cast<MlpImpl>(mlp->clone());
  ASSERT_TRUE(copy);
  mlp->eval();
  copy->eval();
  const auto x = torch::randn({2, 3});
  EXPECT_TRUE(torch::allclose(mlp->forward(x), copy->forward(x)));
  {
    torch::NoGradGuard no_grad;
    mlp->parameters()[0].add_(1.0);
  }
  EXPECT_FALSE(torch::allclose(mlp->forward(x), copy->forward(x)));
}

TEST_F(MlpTest, InvalidOptionsThrow) {
  EXPECT_THROW(Mlp(MlpOptions(0, {4})), Error);
  EXPECT_THROW(Mlp(MlpOptions(3, {})), Error);
  EXPECT_THROW(Mlp(MlpOptions(3, {4, -1})), Error);
  EXPECT_THROW(Mlp(MlpOptions(3, {4}).dropout(1.0)), Error);
  EXPECT_THROW(Mlp(MlpOptions(3, {4}).norm("group")), Error);
  EXPECT_THROW(Mlp(MlpOptions(3, {4}).activation("nope")), RegistryError);
}

TEST(MlpOptions, JsonRoundTrip) {
  const MlpOptions options = MlpOptions(16, {64, 32, 3})
                                 .activation("gelu")
                                 .dropout(0.25)
                                 .norm("layer")
                                 .residual(true)
                                 .activate_output(false);
  EXPECT_EQ(MlpOptions::from_config(Config(options.to_json())), options);
  const MlpOptions minimal = MlpOptions::from_config(Config::parse(R"({"in_features": 2, "layers": [3]})"));
  EXPECT_EQ(minimal, MlpOptions(2, {3}));
}

TEST(MlpOptions, ConfigErrorsNameTheKey) {
  const auto error_of = [](const std::string& text) -> std::string {
    try {
      MlpOptions::from_config(Config::parse(text, "model.json"));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of(R"({"in_features": -3, "layers": [4]})"), "model.json: /in_features: must be > 0, got -3");
  EXPECT_EQ(error_of(R"({"in_features": 3, "layers": []})"), "model.json: /layers: must name at least one layer width");
  EXPECT_EQ(error_of(R"({"in_features": 3, "layers": [4, 0]})"), "model.json: /layers/1: must be > 0, got 0");
  EXPECT_EQ(error_of(R"({"in_features": 3, "layers": [4], "dropout": 1.5})"),
            "model.json: /dropout: must be in [0, 1), got 1.5");
  EXPECT_EQ(error_of(R"({"in_features": 3, "layers": [4], "activation": "rleu"})")
                .rfind("model.json: /activation: unknown activation 'rleu' (did you mean 'relu'?)", 0),
            0u);
  EXPECT_EQ(error_of(R"({"in_features": 3, "layers": [4], "norm": "bach"})"),
            "model.json: /norm: 'bach' is not one of 'none', 'batch', 'layer' (did you mean 'batch'?)");
  EXPECT_EQ(error_of(R"({"in_features": 3, "layers": [4], "hidden": 4})")
                .rfind("model.json: /hidden: unknown key 'hidden'", 0),
            0u);
  EXPECT_EQ(error_of(R"({"layers": [4]})"), "model.json: /in_features: required key is missing");
}

TEST(Mlp, RunsOnGpu_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  seed_everything(0);
  Mlp cpu(MlpOptions(6, {16, 3}).norm("batch"));
  auto gpu = std::dynamic_pointer_cast<MlpImpl>(cpu->clone());
  gpu->to(resolve_device("cuda"));
  const auto x = torch::randn({8, 6});
  const auto expected = cpu->forward(x);
  const auto actual = gpu->forward(x.to(resolve_device("cuda")));
  EXPECT_TRUE(actual.is_cuda());
  EXPECT_TRUE(torch::allclose(actual.cpu(), expected, 1e-4, 1e-5));
}

}  // namespace
}  // namespace finfuse::nn
