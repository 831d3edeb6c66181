#include "finfuse/training/fine_tuning.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/training/optimizer.h"

#include <torch/nn/modules/linear.h>
#include <torch/optim/adamw.h>

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace finfuse::training {
namespace {

// A model as finfuse's are named: "encoders.text" (a 2-layer BERT-style encoder) and a head.
struct Model : torch::nn::Module {
  Model() {
    auto encoders = register_module("encoders", std::make_shared<torch::nn::Module>());
    text = encoders::make_encoder(Config::parse(R"({"type": "transformer", "hidden": 8, "layers": 2, "heads": 2,
                                                    "intermediate": 16, "max_positions": 6, "dropout": 0.0})"),
                                  encoders::ModalitySpec("text", {6}, 12));
    encoders->register_module("text", text);
    head = register_module("head", torch::nn::Linear(8, 1));
  }
  torch::Tensor forward(const torch::Tensor& ids) {
    data::ModalityBatch batch{ids, torch::ones_like(ids, torch::kBool), torch::Tensor()};
    return head->forward(text->encode(batch).pooled).sum();
  }
  std::shared_ptr<encoders::Encoder> text;
  torch::nn::Linear head{nullptr};
};

std::map<std::string, double> rates_by_name(torch::optim::Optimizer& optimizer, torch::nn::Module& model) {
  std::map<const void*, double> rate;
  for (auto& group : optimizer.param_groups()) {
    for (const auto& p : group.params()) {
      rate[p.unsafeGetTensorImpl()] = group.options().get_lr();
    }
  }
  std::map<std::string, double> out;
  for (const auto& p : model.named_parameters()) {
    out[p.key()] = rate.at(p.value().unsafeGetTensorImpl());
  }
  return out;
}

TEST(FineTuning, LayerWiseLearningRatesByHand) {
  seed_everything(1);
  Model model;
  const std::vector<FineTuningOptions> parts = {
      FineTuningOptions().module("encoders.text").lr(1e-4).layer_decay(0.5)};
  FineTuning plan(parts, model);
  EXPECT_EQ(plan.layer_counts(), std::vector<std::int64_t>{4});  // embeddings, 2 layers, the top
  const Json optimizer = {{"type", "adamw"},
                          {"lr", 1e-3},
                          {"groups", {{{"params", "*bias"}, {"weight_decay", 0.0}}}}};
  NamedParameters named;
  for (const auto& p : model.named_parameters()) {
    named.emplace_back(p.key(), p.value());
  }
  auto built = make_optimizer(Config(plan.optimizer_options(optimizer)), named);
  plan.set_learning_rates(*built);
  const auto rates = rates_by_name(*built, model);
  // lr x decay^(top - layer): embeddings 3 below the top, layer 0 two, layer 1 one; the head keeps the optimizer's.
  EXPECT_DOUBLE_EQ(rates.at("encoders.text.embeddings.word_embeddings.weight"), 1e-4 * 0.125);
  EXPECT_DOUBLE_EQ(rates.at("encoders.text.embeddings.LayerNorm.bias"), 1e-4 * 0.125);
  EXPECT_DOUBLE_EQ(rates.at("encoders.text.encoder.layer.0.attention.self.query.weight"), 1e-4 * 0.25);
  EXPECT_DOUBLE_EQ(rates.at("encoders.text.encoder.layer.1.output.dense.bias"), 1e-4 * 0.5);
  EXPECT_DOUBLE_EQ(rates.at("head.weight"), 1e-3);
  EXPECT_DOUBLE_EQ(rates.at("head.bias"), 1e-3);
  // Biases in the part keep the configured group's other options (no weight decay).
  for (auto& group : built->param_groups()) {
    const auto& o = static_cast<torch::optim::AdamWOptions&>(group.options());
    for (const auto& p : model.named_parameters()) {
      if (p.key().size() > 4 && p.key().compare(p.key().size() - 4, 4, "bias") == 0 &&
          p.value().unsafeGetTensorImpl() == group.params().front().unsafeGetTensorImpl()) {
        EXPECT_EQ(o.weight_decay(), 0.0) << p.key();
      }
    }
  }
}

TEST(FineTuning, GradualUnfreezingFromTheTopKeepsFrozenLayersExactlyFixed) {
  seed_everything(2);
  Model model;
  FineTuning plan({FineTuningOptions().module("encoders.text").frozen_layers(2).unfreeze_every(1)}, model);
  torch::optim::AdamW optimizer(model.parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  const auto ids = torch::randint(0, 12, {3, 6});
  const auto trainable = [&](const std::string& prefix) {
    for (const auto& p : model.named_parameters()) {
      if (p.key().rfind(prefix, 0) == 0) {
        return p.value().requires_grad();
      }
    }
    ADD_FAILURE() << prefix;
    return false;
  };
  EXPECT_NE(plan.apply(0).find("keeps 2 of its 4 layers frozen"), std::string::npos);
  EXPECT_FALSE(trainable("encoders.text.embeddings."));
  EXPECT_FALSE(trainable("encoders.text.encoder.layer.0."));
  EXPECT_TRUE(trainable("encoders.text.encoder.layer.1."));
  EXPECT_TRUE(trainable("head."));
  // A step with weight decay leaves the frozen layers exactly as they were and moves the others.
  const auto before = model.named_parameters().find("encoders.text.encoder.layer.0.output.dense.weight")->clone();
  const auto above = model.named_parameters().find("encoders.text.encoder.layer.1.output.dense.weight")->clone();
  optimizer.zero_grad();
  model.forward(ids).backward();
  optimizer.step();
  EXPECT_TRUE(torch::equal(*model.named_parameters().find("encoders.text.encoder.layer.0.output.dense.weight"), before));
  EXPECT_FALSE(torch::equal(*model.named_parameters().find("encoders.text.encoder.layer.1.output.dense.weight"), above));
  // Epoch 2 unfreezes layer 0, epoch 3 the embeddings; nothing changes after.
  EXPECT_NE(plan.apply(1).find("keeps 1 of its 4 layers frozen"), std::string::npos);
  EXPECT_TRUE(trainable("encoders.text.encoder.layer.0."));
  EXPECT_FALSE(trainable("encoders.text.embeddings."));
  EXPECT_NE(plan.apply(2).find("trains all its 4 layers"), std::string::npos);
  EXPECT_TRUE(trainable("encoders.text.embeddings."));
  EXPECT_EQ(plan.apply(3), "");
}

TEST(FineTuning, UnknownModuleNamesTheEncoders) {
  Model model;
  try {
    FineTuning plan({FineTuningOptions().module("encoders.txt")}, model);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/training/fine_tuning/0/module");
    EXPECT_NE(e.reason().find("\"encoders.text\""), std::string::npos) << e.what();
  }
  // From JSON: one object is a list of one; unknown keys are errors at their path.
  const auto options = FieldCodec<std::vector<FineTuningOptions>>::read(
      Config::parse(R"({"fine_tuning": {"module": "encoders.text", "layer_decay": 0.8}})"), "fine_tuning");
  ASSERT_EQ(options.size(), 1U);
  EXPECT_DOUBLE_EQ(options[0].layer_decay(), 0.8);
  EXPECT_THROW(FieldCodec<std::vector<FineTuningOptions>>::read(
                   Config::parse(R"({"fine_tuning": [{"module": "encoders.text", "layer_decy": 0.8}]})"), "fine_tuning"),
               ConfigError);
}

}  // namespace
}  // namespace finfuse::training
