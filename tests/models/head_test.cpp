// Prediction heads: typed options and configuration build the same head, configuration errors name their field, and
// a head written outside the library plugs into a model through the registry.
#include "finfuse/models/head.h"
#include "finfuse/models/multimodal_model.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"

#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <string>
#include <vector>

namespace finfuse::models {
namespace {

TEST(Heads, TypedOptionsAndConfigurationBuildTheSameHead) {
  seed_everything(3);
  ClassificationHead typed(ClassificationHeadOptions(3).layers({8}).dropout(0.0).loss("focal"), 16);
  seed_everything(3);
  const auto configured = make_head(Config(typed->options_json()), HeadContext{16});
  EXPECT_EQ(configured->options_json(), typed->options_json());
  EXPECT_EQ(typed->options_json()["loss"]["type"], "focal");
  EXPECT_EQ(typed->classes(), 3);
  EXPECT_EQ(typed->task(), "classification");
  const auto x = torch::randn({5, 16});
  const auto a = typed->forward(x);
  EXPECT_EQ(a.sizes(), (std::vector<std::int64_t>{5, 3}));
  EXPECT_TRUE(torch::equal(a, configured->forward(x)));

  RegressionHead regression(RegressionHeadOptions().target("forward_return").weight(0.5), 16);
  EXPECT_EQ(regression->forward(x).sizes(), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(regression->options_json()["loss"]["type"], "mse");
  EXPECT_EQ(regression->classes(), 0);
  EXPECT_EQ(regression->weight(), 0.5);
  RankingHead ranking(RankingHeadOptions(), 16);
  EXPECT_EQ(ranking->options_json()["loss"]["type"], "listnet");
  EXPECT_EQ(ranking->task(), "ranking");
  // Each kind's options read back unchanged.
  for (const auto& json : {R"({"type": "regression", "layers": [4, 4], "activation": "gelu"})",
                           R"({"type": "ranking", "loss": "ranknet"})", R"({"type": "classification", "classes": 5})"}) {
    const auto first = make_head(Config::parse(json), HeadContext{16})->options_json();
    EXPECT_EQ(make_head(Config(first), HeadContext{16})->options_json(), first) << json;
  }
}

TEST(Heads, TargetsComeFromTheNamedBatchField) {
  ClassificationHead head(ClassificationHeadOptions(2), 4);
  head->set_head_name("direction");
  data::Batch batch;
  batch.target = torch::tensor({0.0, 1.0, 1.0});
  EXPECT_TRUE(torch::equal(head->target(batch), torch::tensor({0, 1, 1}, torch::kInt64)));
  batch.target = torch::tensor({0.0, 2.0, 1.0});
  try {
    head->target(batch);
    FAIL() << "class 2 of a two-class head was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("head 'direction' has 2 classes"), std::string::npos) << e.what();
  }
  RegressionHead returns(RegressionHeadOptions().target("forward_return"), 4);
  EXPECT_THROW(returns->target(batch), Error);
  batch.forward_return = torch::tensor({0.01, -0.02, 0.0});
  EXPECT_TRUE(torch::equal(returns->target(batch), batch.forward_return.to(torch::kFloat32)));
}

TEST(Heads, ConfigurationErrorsNameTheField) {
  const auto error = [](const std::string& json) {
    try {
      make_head(Config::parse(json), HeadContext{8});
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error(R"({"type": "classification", "classes": 1})").find("/classes"), std::string::npos);
  EXPECT_NE(error(R"({"type": "regression", "classes": 3})").find("/classes"), std::string::npos);
  EXPECT_NE(error(R"({"layers": [8, 0]})").find("/layers/1"), std::string::npos);
  EXPECT_NE(error(R"({"activation": "rleu"})").find("/activation"), std::string::npos);
  EXPECT_NE(error(R"({"target": "return"})").find("/target"), std::string::npos);
  const auto loss = error(R"({"loss": "cross_entropi"})");
  EXPECT_NE(loss.find("/loss"), std::string::npos);
  EXPECT_NE(loss.find("cross_entropy"), std::string::npos) << loss;
  EXPECT_NE(error(R"({"type": "classification", "loss": "mse"})").find("/loss"), std::string::npos);
  EXPECT_NE(error(R"({"type": "ranking", "loss": {"type": "listnet", "temprature": 2}})").find("/loss/temprature"),
            std::string::npos);
  const auto type = error(R"({"type": "regresion"})");
  EXPECT_NE(type.find("/type"), std::string::npos);
  EXPECT_NE(type.find("regression"), std::string::npos) << type;
}

// A head written outside the library: the 0.9 quantile of the forward return, with the pinball loss.
class QuantileHeadImpl : public Head {
 public:
  QuantileHeadImpl(double quantile, std::int64_t in_features)
      : quantile_(quantile), linear_(register_module("linear", torch::nn::Linear(in_features, 1))) {}
  torch::Tensor forward(const torch::Tensor& fused) override { return linear_->forward(fused).squeeze(-1); }
  torch::Tensor target(const data::Batch& batch) const override { return batch.forward_return.to(torch::kFloat32); }
  torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& target, const torch::Tensor&) const override {
    const auto error = target - prediction;
    return torch::max(quantile_ * error, (quantile_ - 1.0) * error).mean();
  }
  std::string task() const override { return "regression"; }
  std::int64_t in_features() const override { return linear_->options.in_features(); }
  Json options_json() const override { return Json{{"type", "test_quantile"}, {"quantile", quantile_}}; }

 private:
  double quantile_;
  torch::nn::Linear linear_;
};

TEST(Heads, AHeadOfOnesOwnPlugsIntoAModel) {
  if (!head_registry().contains("test_quantile")) {
    head_registry().add("test_quantile", [](const Config& options, const HeadContext& context) {
      const auto quantile = options.get<double>("quantile", Range::half_open(0, 1));
      options.reject_unknown_keys();
      return std::make_shared<QuantileHeadImpl>(quantile, context.in_features);
    });
  }
  const std::vector<encoders::ModalitySpec> specs = {encoders::ModalitySpec("numeric", {3})};
  MultimodalModel model(Config::parse(R"({"encoders": {"numeric": {"type": "mlp", "layers": [8]}},
                                          "heads": {"q90": {"type": "test_quantile", "quantile": 0.9}}})"),
                        specs);
  EXPECT_EQ(model->config_json()["heads"]["q90"]["quantile"], 0.9);
  EXPECT_EQ(model->head("q90").head_name(), "q90");
  seed_everything(4);
  data::Batch batch;
  const auto x = torch::randn({256, 3});
  batch.modalities["numeric"] = data::ModalityBatch{x, torch::Tensor(), torch::ones({256}, torch::kBool)};
  batch.forward_return = x.select(1, 0) + 0.5 * torch::randn({256});
  batch.target = torch::zeros({256});
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(0.05));
  for (int step = 0; step < 300; ++step) {
    optimizer.zero_grad();
    model->loss(model->forward(batch), batch).total.backward();
    optimizer.step();
  }
  torch::NoGradGuard no_grad;
  model->eval();
  const auto prediction = model->forward(batch).predictions.at("q90");
  // About 90% of the targets lie below the fitted 0.9 quantile (sampling error of 256 draws is about 2%).
  const double below = (batch.forward_return < prediction).to(torch::kFloat64).mean().item<double>();
  EXPECT_GT(below, 0.82);
  EXPECT_LT(below, 0.97);
  EXPECT_THROW(make_head(Config::parse(R"({"type": "test_quantile", "quantile": 1.5})"), HeadContext{8}), ConfigError);
}

}  // namespace
}  // namespace finfuse::models
