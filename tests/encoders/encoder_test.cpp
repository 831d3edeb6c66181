#include "finfuse/encoders/encoder.h"
#include "finfuse/encoders/mlp_encoder.h"
#include "finfuse/encoders/rnn_encoder.h"

#include "finfuse/core/device.h"
#include "finfuse/core/random.h"
#include "support/cuda.h"

#include <torch/serialize.h>

#include <gtest/gtest.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/modules/rnn.h>

#include <filesystem>

namespace finfuse::encoders {
namespace {

std::shared_ptr<Encoder> encoder_from(const std::string& json, const ModalitySpec& spec) {
  return make_encoder(Config::parse(json, "model.json"), spec);
}

data::ModalityBatch batch_of(torch::Tensor values, torch::Tensor mask = {}) {
  return data::ModalityBatch{std::move(values), std::move(mask), torch::Tensor()};
}

// Copies every parameter of `from` into `to` by name.
void copy_parameters(const Encoder& from, Encoder& to) {
  torch::NoGradGuard no_grad;
  const auto source = from.named_parameters();
  for (auto& p : to.named_parameters()) {
    p.value().copy_(source[p.key()]);
  }
}

void expect_gradients_everywhere(Encoder& encoder, const torch::Tensor& loss) {
  loss.backward();
  for (const auto& p : encoder.named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

class EncoderTest : public ::testing::Test {
 protected:
  void SetUp() override { seed_everything(3); }
};

TEST_F(EncoderTest, MlpOverNumericFeatures) {
  const auto encoder = encoder_from(R"({"type": "mlp", "layers": [16, 8], "norm": "layer"})", {"numeric", {5}});
  const auto out = encoder->encode(batch_of(torch::randn({4, 5})));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{4, 8}));
  EXPECT_FALSE(out.tokens.defined());
  EXPECT_EQ(encoder->token_size(), 0) << "the declared token width is the returned one";
  EXPECT_EQ(encoder->output_size(), 8);
  EXPECT_EQ(encoder->parameter_count(), (5 * 16 + 16 + 32) + (16 * 8 + 8 + 16));
  try {
    encoder->encode(batch_of(torch::randn({4, 6})));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("encoder of modality 'numeric': expected input [B, 5], got [4, 6]"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(encoder->encode(batch_of(torch::ones({4, 5}, torch::kInt64))), ShapeError);
}

TEST_F(EncoderTest, MlpOverCategoricalIdsReachesEveryParameter) {
  const ModalitySpec spec("categorical", {3}, 0, {4, 7, 2});
  const auto encoder = encoder_from(R"({"type": "mlp", "layers": [6]})", spec);
  const auto ids = torch::tensor({{0, 6, 1}, {3, 2, 0}, {1, 1, 1}}, torch::kInt64);
  const auto out = encoder->encode(batch_of(ids));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{3, 6}));
  expect_gradients_everywhere(*encoder, out.pooled.pow(2).sum());
}

TEST_F(EncoderTest, ConfigErrorsNameTheKey) {
  const auto error = [](const std::string& json) -> std::string {
    try {
      encoder_from(json, {"price", {5, 5}});
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error(R"({"type": "lstm"})"),
            "model.json: /type: unknown encoder 'lstm'; registered: 'cnn', 'mlp', 'resnet', 'rnn', 'tcn', 'transformer'");
  EXPECT_EQ(error(R"({"type": "rnn", "hiden": 8})").rfind("model.json: /hiden: unknown key 'hiden' (did you mean 'hidden'?)", 0),
            0u);
  EXPECT_EQ(error(R"({"type": "rnn", "pooling": "sum"})").rfind("model.json: /pooling: 'sum' is not one of", 0), 0u);
  EXPECT_EQ(error(R"({"layers": [4]})"), "model.json: /type: required key is missing");
  // The resolved options round-trip through the registry.
  const auto encoder = encoder_from(R"({"type": "rnn", "cell": "gru", "hidden": 8, "pooling": "attention"})",
                                    {"price", {5, 5}});
  EXPECT_EQ(make_encoder(Config(encoder->options_json()), {"price", {5, 5}})->options_json(), encoder->options_json());
}

TEST_F(EncoderTest, RnnOverPriceWindows) {
  for (const char* cell : {"lstm", "gru"}) {
    for (const char* pooling : {"last", "mean", "max", "attention"}) {
      const auto encoder = encoder_from(fmt::format(R"({{"type": "rnn", "cell": "{}", "hidden": 6, "layers": 2,
                                                      "bidirectional": true, "pooling": "{}"}})",
                                                    cell, pooling),
                                        {"price", {5, 5}});
      const auto out = encoder->encode(batch_of(torch::randn({3, 5, 5})));
      EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{3, 12})) << cell << " " << pooling;
      EXPECT_EQ(out.tokens.sizes(), (std::vector<std::int64_t>{3, 5, 12}));
      EXPECT_EQ(encoder->token_size(), 12) << "the declared token width is the returned one";
      expect_gradients_everywhere(*encoder, out.pooled.pow(2).sum());
    }
  }
}

// The attentive LSTM of Adv-ALSTM: a tanh dense layer on each step, attention u . tanh(W h + b), and the last state
// beside the attention context.
TEST_F(EncoderTest, RnnLastStateBesideAttentionContext) {
  seed_everything(4);
  const auto encoder = std::dynamic_pointer_cast<RnnEncoderImpl>(encoder_from(
      R"({"type": "rnn", "hidden": 4, "pooling": "last_attention", "attention_units": 4, "input_layer": 11})",
      {"price", {5, 11}}));
  ASSERT_TRUE(encoder);
  EXPECT_EQ(encoder->output_size(), 8);
  EXPECT_EQ(encoder->token_size(), 4);
  const auto x = torch::randn({3, 5, 11});
  const auto out = encoder->encode(batch_of(x));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{3, 8}));
  // By hand from the module's parts: the states, then the attention weights over them.
  const auto params = encoder->named_parameters();
  const auto projected = torch::tanh(torch::nn::functional::linear(x, params["input_layer.weight"],
                                                                    params["input_layer.bias"]));
  const auto states = std::get<0>(encoder->named_children()["lstm"]->as<torch::nn::LSTM>()->forward(projected));
  const auto last = states.select(1, 4);
  const auto hidden = torch::tanh(torch::nn::functional::linear(states, params["attention_projection.weight"],
                                                                 params["attention_projection.bias"]));
  const auto weights = torch::softmax(torch::matmul(hidden, params["attention.weight"].t()).squeeze(-1), 1);
  const auto context = (weights.unsqueeze(-1) * states).sum(1);
  EXPECT_TRUE(torch::allclose(out.pooled, torch::cat({last, context}, 1), 1e-5, 1e-6));
  EXPECT_FALSE(params.contains("attention.bias"));
  expect_gradients_everywhere(*encoder, out.pooled.pow(2).sum());
  EXPECT_THROW(encoder_from(R"({"type": "rnn", "input_layer": 4})", {"text", {6}, 20}), Error);
}

TEST_F(EncoderTest, PaddingNeverChangesTheResult) {
  // The same two token sequences, padded to 5 and to 9 positions.
  const auto short_ids = torch::tensor({{5, 3, 8, 0, 0}, {2, 2, 2, 2, 7}}, torch::kInt64);
  const auto long_ids = torch::cat({short_ids, torch::zeros({2, 4}, torch::kInt64)}, 1);
  const auto short_mask = (short_ids != 0) | torch::tensor({{0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}}, torch::kBool);
  const auto long_mask = torch::cat({short_mask, torch::zeros({2, 4}, torch::kBool)}, 1);
  for (const char* pooling : {"last", "mean", "max", "attention"}) {
    for (const char* bidirectional : {"false", "true"}) {
      const std::string json = fmt::format(
          R"({{"type": "rnn", "hidden": 4, "embedding_dim": 3, "pooling": "{}", "bidirectional": {}}})", pooling,
          bidirectional);
      const auto a = encoder_from(json, {"text", {5}, 10});
      const auto b = encoder_from(json, {"text", {9}, 10});
      copy_parameters(*a, *b);
      const auto pa = a->encode(batch_of(short_ids, short_mask)).pooled;
      const auto pb = b->encode(batch_of(long_ids, long_mask)).pooled;
      EXPECT_TRUE(torch::allclose(pa, pb, 1e-6, 1e-6)) << pooling << " bidirectional " << bidirectional;
    }
  }
}

TEST_F(EncoderTest, SeveralTextsPerSampleIgnoreEmptySlots) {
  // Sample 0 has two texts, sample 1 none; a second layout adds two empty text slots.
  auto ids = torch::zeros({2, 2, 4}, torch::kInt64);
  ids[0][0] = torch::tensor({4, 5, 6, 0});
  ids[0][1] = torch::tensor({7, 8, 0, 0});
  const auto mask = ids != 0;
  const auto more_ids = torch::cat({ids, torch::zeros({2, 2, 4}, torch::kInt64)}, 1);
  const auto more_mask = more_ids != 0;
  for (const char* text_pooling : {"mean", "max", "attention"}) {
    const std::string json =
        fmt::format(R"({{"type": "rnn", "hidden": 5, "embedding_dim": 4, "text_pooling": "{}"}})", text_pooling);
    const auto a = encoder_from(json, {"text", {2, 4}, 12});
    const auto b = encoder_from(json, {"text", {4, 4}, 12});
    copy_parameters(*a, *b);
    const auto out = a->encode(batch_of(ids, mask));
    EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{2, 5}));
    EXPECT_EQ(out.tokens.sizes(), (std::vector<std::int64_t>{2, 2, 5}));
    EXPECT_EQ(a->token_size(), 5) << "the declared token width is the returned one";
    EXPECT_TRUE(torch::equal(out.token_mask, torch::tensor({{true, true}, {false, false}})));
    EXPECT_TRUE(torch::allclose(out.pooled, b->encode(batch_of(more_ids, more_mask)).pooled, 1e-6, 1e-6))
        << text_pooling;
    EXPECT_EQ(out.pooled[1].abs().sum().item<float>(), 0.0f);  // no texts: a zero vector
    EXPECT_FALSE(torch::isnan(out.pooled).any().item<bool>());
  }
}

TEST_F(EncoderTest, DeterministicUnderASeedAndSavedAndLoaded) {
  const std::string json = R"({"type": "rnn", "cell": "gru", "hidden": 4, "pooling": "attention"})";
  seed_everything(11);
  const auto a = encoder_from(json, {"price", {5, 5}});
  seed_everything(11);
  const auto b = encoder_from(json, {"price", {5, 5}});
  const auto x = torch::randn({2, 5, 5});
  EXPECT_TRUE(torch::equal(a->encode(batch_of(x)).pooled, b->encode(batch_of(x)).pooled));

  const auto path = std::filesystem::temp_directory_path() / "finfuse_encoder_test.pt";
  {
    torch::serialize::OutputArchive archive;
    a->save(archive);
    archive.save_to(path.string());
  }
  seed_everything(12);
  const auto c = encoder_from(json, {"price", {5, 5}});
  EXPECT_FALSE(torch::equal(a->encode(batch_of(x)).pooled, c->encode(batch_of(x)).pooled));
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  c->load(archive);
  EXPECT_TRUE(torch::equal(a->encode(batch_of(x)).pooled, c->encode(batch_of(x)).pooled));
  std::filesystem::remove(path);
}

TEST_F(EncoderTest, RunsOnGpu_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  const auto encoder = encoder_from(R"({"type": "rnn", "hidden": 4, "pooling": "mean"})", {"text", {6}, 20});
  const auto ids = torch::randint(1, 20, {3, 6}, torch::kInt64);
  const auto mask = torch::ones({3, 6}, torch::kBool);
  const auto cpu = encoder->encode(batch_of(ids, mask)).pooled;
  encoder->to(resolve_device("cuda"));
  const auto gpu = encoder->encode(batch_of(ids.cuda(), mask.cuda())).pooled;
  EXPECT_TRUE(torch::allclose(gpu.cpu(), cpu, 1e-5, 1e-5));
}

}  // namespace
}  // namespace finfuse::encoders

namespace finfuse::encoders {
namespace {

TEST_F(EncoderTest, TemporalConvolutionIsCausal) {
  const auto encoder = encoder_from(R"({"type": "tcn", "channels": [8, 8, 4], "kernel_size": 2})", {"price", {12, 5}});
  encoder->eval();
  auto x = torch::randn({2, 12, 5});
  const auto out = encoder->encode(batch_of(x));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(out.tokens.sizes(), (std::vector<std::int64_t>{2, 12, 4}));
  EXPECT_EQ(encoder->token_size(), 4) << "the declared token width is the returned one";
  // Changing the last day changes the last state only.
  auto changed = x.clone();
  changed.select(1, 11).add_(3.0);
  const auto out2 = encoder->encode(batch_of(changed));
  EXPECT_TRUE(torch::allclose(out.tokens.slice(1, 0, 11), out2.tokens.slice(1, 0, 11)));
  EXPECT_FALSE(torch::allclose(out.tokens.select(1, 11), out2.tokens.select(1, 11)));
  encoder->train();
  expect_gradients_everywhere(*encoder, encoder->encode(batch_of(x)).pooled.pow(2).sum());
}

TEST_F(EncoderTest, ChartCnnFollowsThePaperByDefault) {
  const auto encoder = encoder_from(R"({"type": "cnn"})", {"chart", {1, 64, 60}});
  const auto out = encoder->encode(batch_of(torch::rand({2, 1, 64, 60})));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{2, 128}));
  EXPECT_EQ(out.tokens.sizes(), (std::vector<std::int64_t>{2, 8 * 60, 256}));  // 64 / 2^3 rows, width kept
  EXPECT_EQ(encoder->token_size(), 256) << "the declared token width is the returned one";
  EXPECT_EQ(encoder->options_json()["channels"], Json({64, 128, 256}));
  // conv 5x3 + batch norm per block, then the projection of 256 x 8 x 60 features.
  const std::int64_t convs = (1 * 15 * 64 + 64) + (64 * 15 * 128 + 128) + (128 * 15 * 256 + 256);
  const std::int64_t norms = 2 * (64 + 128 + 256);
  EXPECT_EQ(encoder->parameter_count(), convs + norms + 256 * 8 * 60 * 128 + 128);
  expect_gradients_everywhere(*encoder, out.pooled.pow(2).sum());
  EXPECT_THROW(encoder_from(R"({"type": "cnn", "channels": [8, 8, 8, 8, 8, 8, 8]})", {"chart", {1, 32, 15}}), Error);
}

TEST_F(EncoderTest, ResNetMatchesTorchvisionSizesAndNames) {
  // torchvision's resnet18 / resnet34 have 11,689,512 / 21,797,672 parameters, of which the classifier holds 513,000.
  EXPECT_EQ(encoder_from(R"({"type": "resnet"})", {"image", {3, 64, 64}})->parameter_count(), 11176512);
  EXPECT_EQ(encoder_from(R"({"type": "resnet", "depth": 34})", {"image", {3, 64, 64}})->parameter_count(), 21284672);
  const auto grey = encoder_from(R"({"type": "resnet"})", {"image", {1, 64, 64}});
  EXPECT_EQ(grey->parameter_count(), 11176512 - 64 * 2 * 49);
  const auto names = grey->named_parameters();
  for (const char* name : {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                           "layer2.0.downsample.1.bias", "layer4.1.bn2.weight"}) {
    EXPECT_TRUE(names.contains(name)) << name;
  }
  EXPECT_TRUE(grey->named_buffers().contains("layer3.0.downsample.1.running_var"));
  const auto out = grey->encode(batch_of(torch::rand({2, 1, 64, 64})));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{2, 512}));
  EXPECT_EQ(out.tokens.sizes(), (std::vector<std::int64_t>{2, 4, 512}));
  EXPECT_EQ(grey->token_size(), 512) << "the declared token width is the returned one";
  EXPECT_THROW(encoder_from(R"({"type": "resnet", "depth": 50})", {"image", {3, 64, 64}}), ConfigError);
  EXPECT_THROW(grey->encode(batch_of(torch::rand({2, 3, 64, 64}))), ShapeError);
}

}  // namespace
}  // namespace finfuse::encoders

namespace finfuse::encoders {
namespace {

TEST_F(EncoderTest, BertStyleTransformerOverTokens) {
  const std::string json = R"({"type": "transformer", "hidden": 16, "layers": 2, "heads": 4, "intermediate": 32,
                              "max_positions": 16, "dropout": 0.0})";
  const auto encoder = encoder_from(json, {"text", {6}, 30});
  const std::int64_t h = 16;
  const std::int64_t i = 32;
  const std::int64_t embeddings = 30 * h + 16 * h + 2 * h + 2 * h;
  const std::int64_t layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
  EXPECT_EQ(encoder->parameter_count(), embeddings + 2 * layer);
  const auto names = encoder->named_parameters();
  for (const char* name : {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                           "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
                           "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.attention.output.dense.bias",
                           "encoder.layer.1.attention.output.LayerNorm.weight", "encoder.layer.0.intermediate.dense.weight",
                           "encoder.layer.1.output.dense.weight", "encoder.layer.1.output.LayerNorm.bias"}) {
    EXPECT_TRUE(names.contains(name)) << name;
  }
  const auto ids = torch::tensor({{2, 7, 9, 3, 0, 0}, {2, 5, 5, 5, 5, 3}}, torch::kInt64);
  const auto mask = torch::tensor({{1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1}}, torch::kBool);
  const auto out = encoder->encode(batch_of(ids, mask));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{2, 16}));
  EXPECT_EQ(out.tokens.sizes(), (std::vector<std::int64_t>{2, 6, 16}));
  EXPECT_EQ(encoder->token_size(), 16) << "the declared token width is the returned one";
  expect_gradients_everywhere(*encoder, out.pooled.pow(2).sum());
  // Padding never changes the result, with either pooling.
  for (const char* pooling : {"cls", "mean"}) {
    const std::string with_pooling = json.substr(0, json.size() - 1) + R"(, "pooling": ")" + pooling + "\"}";
    const auto a = encoder_from(with_pooling, {"text", {6}, 30});
    const auto b = encoder_from(with_pooling, {"text", {10}, 30});
    copy_parameters(*a, *b);
    const auto long_ids = torch::cat({ids, torch::zeros({2, 4}, torch::kInt64)}, 1);
    const auto long_mask = torch::cat({mask, torch::zeros({2, 4}, torch::kBool)}, 1);
    EXPECT_TRUE(torch::allclose(a->encode(batch_of(ids, mask)).pooled, b->encode(batch_of(long_ids, long_mask)).pooled,
                                1e-5, 1e-6))
        << pooling;
  }
  EXPECT_THROW(encoder_from(R"({"type": "transformer", "hidden": 10, "heads": 4})", {"text", {6}, 30}), ConfigError);
  EXPECT_THROW(encoder_from(R"({"type": "transformer", "max_positions": 4})", {"text", {6}, 30}), Error);
}

TEST_F(EncoderTest, BertBaseHasThePublishedSize) {
  // bert-base-uncased: 109,482,240 parameters, 590,592 of them in the pooler that finfuse does not have.
  const auto encoder = encoder_from(R"({"type": "transformer", "hidden": 768, "layers": 12, "heads": 12,
                                        "intermediate": 3072, "max_positions": 512})",
                                    {"text", {128}, 30522});
  EXPECT_EQ(encoder->parameter_count(), 109482240 - 590592);
}

TEST_F(EncoderTest, TransformerOverDaysAndSeveralTexts) {
  const auto days = encoder_from(R"({"type": "transformer", "hidden": 8, "layers": 1, "heads": 2, "intermediate": 16,
                                     "pooling": "mean"})",
                                 {"price", {20, 5}});
  const auto out = days->encode(batch_of(torch::randn({3, 20, 5})));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<std::int64_t>{3, 8}));
  EXPECT_TRUE(days->named_parameters().contains("embeddings.projection.weight"));
  const auto texts = encoder_from(R"({"type": "transformer", "hidden": 8, "layers": 1, "heads": 2, "intermediate": 16})",
                                  {"text", {3, 5}, 40});
  auto ids = torch::zeros({2, 3, 5}, torch::kInt64);
  ids[0][0] = torch::tensor({2, 9, 9, 3, 0});
  const auto result = texts->encode(batch_of(ids, ids != 0));
  EXPECT_EQ(result.tokens.sizes(), (std::vector<std::int64_t>{2, 3, 8}));
  EXPECT_EQ(texts->token_size(), 8) << "the declared token width is the returned one";
  EXPECT_TRUE(torch::equal(result.token_mask, torch::tensor({{true, false, false}, {false, false, false}})));
  EXPECT_EQ(result.pooled[1].abs().sum().item<float>(), 0.0f);
}

}  // namespace
}  // namespace finfuse::encoders

namespace finfuse::encoders {
namespace {

TEST(EncoderDevices, EveryEncoderMatchesOnGpu_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  seed_everything(1);
  struct Case {
    std::string json;
    ModalitySpec spec;
    torch::Tensor values;
    torch::Tensor mask;
  };
  const std::vector<Case> cases = {
      {R"({"type": "mlp", "layers": [8]})", ModalitySpec("numeric", {4}), torch::randn({3, 4}), {}},
      {R"({"type": "rnn", "cell": "gru", "pooling": "attention"})", ModalitySpec("price", {6, 5}), torch::randn({3, 6, 5}), {}},
      {R"({"type": "tcn"})", ModalitySpec("price", {6, 5}), torch::randn({3, 6, 5}), {}},
      {R"({"type": "transformer", "hidden": 16, "heads": 2, "layers": 1})", ModalitySpec("text", {6}, 30),
       torch::randint(1, 30, {3, 6}, torch::kInt64), torch::ones({3, 6}, torch::kBool)},
      {R"({"type": "cnn"})", ModalitySpec("chart", {1, 32, 15}), torch::rand({3, 1, 32, 15}), {}},
      {R"({"type": "resnet"})", ModalitySpec("image", {3, 32, 32}), torch::rand({3, 3, 32, 32}), {}},
  };
  const auto gpu = resolve_device("cuda");
  for (const auto& c : cases) {
    const auto encoder = make_encoder(Config::parse(c.json), c.spec);
    encoder->eval();
    torch::NoGradGuard no_grad;
    const auto cpu = encoder->encode(data::ModalityBatch{c.values, c.mask, torch::Tensor()}).pooled;
    encoder->to(gpu);
    const auto on_gpu = encoder->encode(data::ModalityBatch{c.values.to(gpu), c.mask.defined() ? c.mask.to(gpu) : c.mask,
                                                             torch::Tensor()})
                            .pooled;
    EXPECT_TRUE(on_gpu.is_cuda());
    EXPECT_TRUE(torch::allclose(on_gpu.cpu(), cpu, 1e-4, 1e-4)) << c.json;
  }
}

}  // namespace
}  // namespace finfuse::encoders

namespace finfuse::encoders {
namespace {

TEST(EncoderPaths, UnpaddedFastPathEqualsPackedSequences) {
  // Full-length sequences take the unpacked path; the same sequences with padding appended take the packed one.
  seed_everything(4);
  const auto ids = torch::tensor({{5, 3, 8, 1}, {2, 2, 9, 7}}, torch::kInt64);
  const auto mask = torch::ones({2, 4}, torch::kBool);
  const auto padded_ids = torch::cat({ids, torch::zeros({2, 3}, torch::kInt64)}, 1);
  const auto padded_mask = torch::cat({mask, torch::zeros({2, 3}, torch::kBool)}, 1);
  for (const char* cell : {"lstm", "gru"}) {
    for (const char* pooling : {"last", "mean", "max", "attention"}) {
      const std::string json = fmt::format(
          R"({{"type": "rnn", "cell": "{}", "hidden": 4, "layers": 2, "embedding_dim": 3, "bidirectional": true,
              "pooling": "{}"}})",
          cell, pooling);
      const auto a = make_encoder(Config::parse(json), ModalitySpec("text", {4}, 10));
      const auto b = make_encoder(Config::parse(json), ModalitySpec("text", {7}, 10));
      copy_parameters(*a, *b);
      EXPECT_TRUE(torch::allclose(a->encode(batch_of(ids, mask)).pooled,
                                  b->encode(batch_of(padded_ids, padded_mask)).pooled, 1e-5, 1e-6))
          << cell << " " << pooling;
    }
  }
}

}  // namespace
}  // namespace finfuse::encoders
