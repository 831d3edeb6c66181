// Multimodal models assembled from JSON: every fusion type trains on generated data with gaps in its modalities and
// the loss falls; presence masks, modality dropout, multi-task heads, readable parameter names, summary, ablation.
#include "finfuse/models/ablation.h"
#include "finfuse/models/multimodal_model.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/encoders/mlp_encoder.h"
#include "finfuse/encoders/rnn_encoder.h"
#include "finfuse/fusion/gated_fusion.h"
#include "support/cuda.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <functional>
#include <string>
#include <vector>

namespace finfuse::models {
namespace {

const std::vector<encoders::ModalitySpec> kSpecs = {
    encoders::ModalitySpec("price", {10, 5}), encoders::ModalitySpec("text", {12}, 50),
    encoders::ModalitySpec("numeric", {6})};

// The label depends on all three modalities: the last close change, whether token 7 appears in the text, and the
// first numeric feature. A fifth of the samples lack their text, a tenth their numbers.
data::Batch generated_batch(std::int64_t b, std::uint64_t seed) {
  seed_everything(seed);
  data::Batch batch;
  const auto price = torch::randn({b, 10, 5});
  auto ids = torch::randint(8, 50, {b, 12}, torch::kInt64);
  const auto lengths = torch::randint(3, 13, {b}, torch::kInt64);
  const auto mask = torch::arange(12).unsqueeze(0) < lengths.unsqueeze(1);
  const auto signal = torch::rand({b}) < 0.5;
  ids.select(1, 1).masked_fill_(signal, 7);
  ids.masked_fill_(mask.logical_not(), 0);
  const auto numeric = torch::randn({b, 6});
  const auto text_present = torch::rand({b}) >= 0.2;
  auto numeric_present = torch::rand({b}) >= 0.1;
  numeric_present.logical_or_(text_present.logical_not());  // never both missing
  batch.modalities["price"] = data::ModalityBatch{price, torch::Tensor(), torch::ones({b}, torch::kBool)};
  batch.modalities["text"] = data::ModalityBatch{ids, mask, text_present};
  batch.modalities["numeric"] = data::ModalityBatch{numeric, torch::Tensor(), numeric_present};
  const auto score = price.select(1, 9).select(1, 3) + 1.5 * signal.to(torch::kFloat32) - 0.75 +
                     numeric.select(1, 0);
  batch.target = (score > 0).to(torch::kFloat32);
  batch.forward_return = score * 0.01;
  batch.entity = torch::arange(b, torch::kInt64);
  batch.day = torch::full({b}, 16000, torch::kInt32);
  // A ring over the batch, for graph fusion.
  const auto next = (torch::arange(b, torch::kInt64) + 1) % b;
  batch.edge_index = torch::stack({torch::cat({torch::arange(b, torch::kInt64), next}),
                                   torch::cat({next, torch::arange(b, torch::kInt64)})});
  batch.edge_weight = torch::ones({2 * b});
  return batch;
}

std::string model_json(const std::string& fusion) {
  return R"({"encoders": {"price": {"type": "rnn", "cell": "gru", "hidden": 16},
                          "text": {"type": "rnn", "hidden": 16, "embedding_dim": 16},
                          "numeric": {"type": "mlp", "layers": [16]}},
             "fusion": )" +
         fusion + R"(,
             "heads": {"direction": {"type": "classification", "layers": [16]}}})";
}

MultimodalModel build(const std::string& json) { return MultimodalModel(Config::parse(json), kSpecs); }

double train(MultimodalModel& model, const data::Batch& batch, int steps, double* first_loss) {
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
  model->train();
  double loss = 0.0;
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    auto total = model->loss(model->forward(batch), batch).total;
    total.backward();
    optimizer.step();
    loss = total.item<double>();
    if (step == 0 && first_loss != nullptr) {
      *first_loss = loss;
    }
  }
  return loss;
}

class EveryFusionModel : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(EveryFusionModel, TrainsAndTheLossFalls) {
  const auto batch = generated_batch(64, 21);
  seed_everything(1);
  auto model = build(model_json(GetParam().second));
  double first = 0.0;
  const double last = train(model, batch, 40, &first);
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, 0.6 * first) << GetParam().first << ": loss " << first << " -> " << last;
}

INSTANTIATE_TEST_SUITE_P(
    Model, EveryFusionModel,
    ::testing::Values(
        std::make_pair(std::string("concat"), std::string(R"({"type": "concat"})")),
        std::make_pair(std::string("gated"), std::string(R"({"type": "gated", "hidden": 16})")),
        std::make_pair(std::string("attention"),
                       std::string(R"({"type": "attention", "hidden": 16, "heads": 2, "dropout": 0.0})")),
        std::make_pair(std::string("cross_attention"),
                       std::string(R"({"type": "cross_attention", "query": "price", "context": "text",
                                       "hidden": 16, "heads": 2, "dropout": 0.0})")),
        std::make_pair(std::string("bilinear"),
                       std::string(R"({"type": "bilinear", "modalities": ["price", "numeric"], "hidden": 16})")),
        std::make_pair(std::string("graph_sage"), std::string(R"({"type": "graph", "hidden": 16})")),
        std::make_pair(std::string("graph_gat"),
                       std::string(R"({"type": "graph", "layer": "gat", "heads": 2, "hidden": 16})"))),
    [](const auto& info) { return info.param.first; });

TEST(Model, ParameterNamesAreStableAndReadable) {
  auto model = build(model_json(R"({"type": "gated", "hidden": 8})"));
  std::vector<std::string> names;
  for (const auto& p : model->named_parameters()) {
    names.push_back(p.key());
  }
  for (const std::string expected :
       {"encoders.price.gru.weight_ih_l0", "encoders.text.embedding.weight", "encoders.numeric.mlp.layers.0.linear.weight", "missing.text",
        "fusion.transform.price.weight", "fusion.gate.weight", "heads.direction.mlp.layers.0.linear.weight"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end())
        << expected << " not among\n" << ::testing::PrintToString(names);
  }
  EXPECT_EQ(model->modalities(), (std::vector<std::string>{"numeric", "price", "text"}));
}

TEST(Model, AbsentModalitiesUseTheMissingEmbeddingAndEmptySamplesAreErrors) {
  auto model = build(model_json(R"({"type": "concat"})"));
  model->eval();
  auto batch = generated_batch(8, 3);
  batch.modalities["text"].present[1] = false;
  // Whatever the values of an absent modality, the prediction is the same.
  const auto absent = batch.modalities["text"].present.logical_not().nonzero();
  ASSERT_GT(absent.size(0), 0);
  const auto i = absent[0][0].item<std::int64_t>();
  const auto before = model->forward(batch).predictions.at("direction")[i].clone();
  batch.modalities["text"].values[i].fill_(9);
  batch.modalities["text"].mask[i].fill_(true);
  EXPECT_TRUE(torch::allclose(model->forward(batch).predictions.at("direction")[i], before));
  // A sample with nothing is reported by entity and date.
  for (auto& [name, modality] : batch.modalities) {
    modality.present[2] = false;
  }
  model->set_entity_names({"AAPL", "MSFT", "XOM"});
  try {
    model->forward(batch);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 2 of the batch (entity 'XOM', 2013-10-22)"), std::string::npos)
        << e.what();
  }
}

TEST(Model, AllMissingSamplesCanBePredictedFromTheMissingEmbeddings) {
  // With "all_missing": "embedding", a sample without any modality gets the prediction of the learned missing
  // embeddings alone: the same for every such sample, whatever their (absent) values.
  for (const char* fusion : {R"({"type": "concat"})", R"({"type": "attention", "hidden": 16, "heads": 2})"}) {
    std::string json = model_json(fusion);
    json.insert(json.rfind('}'), R"(, "all_missing": "embedding")");
    auto model = build(json);
    EXPECT_EQ(model->config_json()["all_missing"], "embedding");
    model->eval();
    auto batch = generated_batch(8, 5);
    for (auto& [name, modality] : batch.modalities) {
      modality.present[2] = false;
      modality.present[5] = false;
    }
    batch.modalities["price"].values[5].fill_(3);
    const auto out = model->forward(batch).predictions.at("direction");
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>()) << fusion;
    EXPECT_TRUE(torch::allclose(out[2], out[5])) << fusion;
    EXPECT_FALSE(torch::allclose(out[2], out[3])) << fusion;
  }
  EXPECT_THROW(build([] {
                 std::string json = model_json(R"({"type": "concat"})");
                 json.insert(json.rfind('}'), R"(, "all_missing": "skip")");
                 return json;
               }()),
               ConfigError);
}

TEST(Model, ParallelEncodersComputeWhatSerialOnesDo) {
  auto serial = build(model_json(R"({"type": "attention", "hidden": 16, "heads": 2})"));
  std::string json = model_json(R"({"type": "attention", "hidden": 16, "heads": 2})");
  json.insert(json.rfind('}'), R"(, "parallel_encoders": true)");
  auto parallel = build(json);
  EXPECT_EQ(parallel->config_json()["parallel_encoders"], "always");
  EXPECT_EQ(serial->config_json()["parallel_encoders"], "never");
  {
    torch::NoGradGuard no_grad;
    const auto from = serial->named_parameters();
    for (auto& p : parallel->named_parameters()) {
      p.value().copy_(from[p.key()]);
    }
  }
  const auto batch = generated_batch(16, 9);
  serial->eval();
  parallel->eval();
  EXPECT_TRUE(torch::equal(serial->forward(batch).predictions.at("direction"),
                           parallel->forward(batch).predictions.at("direction")));
  // Training (the encoders have no dropout; the fusion's draws the same masks from the same seed): the same
  // gradients, parameter by parameter.
  serial->train();
  parallel->train();
  seed_everything(11);
  serial->loss(serial->forward(batch), batch).total.backward();
  seed_everything(11);
  parallel->loss(parallel->forward(batch), batch).total.backward();
  const auto grads = serial->named_parameters();
  for (const auto& p : parallel->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::allclose(p.value().grad(), grads[p.key()].grad(), 1e-6, 1e-7)) << p.key();
  }
  // An encoder failing on a worker thread fails the forward pass with its own message.
  auto broken = batch;
  broken.modalities["numeric"].values = torch::randn({16, 7});
  try {
    parallel->forward(broken);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("numeric"), std::string::npos) << e.what();
  }
}

TEST(Model, AutomaticallyConcurrentEncodersServeSmallBatchesAsSerialOnesDo) {
  const std::string base = model_json(R"({"type": "concat"})");
  auto with = [&](const char* value) {
    std::string json = base;
    json.insert(json.rfind('}'), fmt::format(R"(, "parallel_encoders": {})", value));
    return build(json);
  };
  auto automatic = with(R"("auto")");
  auto never = with("false");
  EXPECT_EQ(never->config_json()["parallel_encoders"], "never");
  EXPECT_EQ(automatic->config_json()["parallel_encoders"], "auto");
  {
    torch::NoGradGuard no_grad;
    const auto from = automatic->named_parameters();
    for (auto& p : never->named_parameters()) {
      p.value().copy_(from[p.key()]);
    }
  }
  automatic->eval();
  never->eval();
  for (const std::int64_t size : {1, 4, 64}) {
    const auto batch = generated_batch(size, 3);
    c10::InferenceMode inference;
    EXPECT_TRUE(torch::allclose(automatic->forward(batch).predictions.at("direction"),
                                never->forward(batch).predictions.at("direction"), 1e-6, 1e-7))
        << size << " samples";
  }
  EXPECT_THROW(with(R"("sometimes")"), ConfigError);
}

TEST(Model, ModalityDropoutNeverEmptiesASample) {
  auto model = build(R"({"encoders": {"price": {"type": "rnn", "hidden": 8}, "numeric": {"type": "mlp",
                         "layers": [8]}}, "fusion": {"type": "attention", "hidden": 8, "heads": 2, "dropout": 0.0},
                         "heads": {"y": {"type": "classification"}}, "modality_dropout": 0.9})");
  auto batch = generated_batch(32, 4);
  batch.modalities.at("numeric").present.fill_(true);
  model->train();
  for (int k = 0; k < 5; ++k) {
    const auto attention = model->forward(batch).inspection.at("attention");  // [B, 3]
    // Every sample attends to at least one modality token.
    EXPECT_TRUE(attention.slice(1, 1, 3).sum(1).gt(0).all().item<bool>());
  }
  model->eval();
  const auto a = model->forward(batch).predictions.at("y");
  EXPECT_TRUE(torch::equal(a, model->forward(batch).predictions.at("y"))) << "no dropout in eval mode";
}

TEST(Model, MultiTaskLossIsTheWeightedSumOfTheHeads) {
  auto model = build(R"({"encoders": {"numeric": {"type": "mlp", "layers": [8]}},
                         "heads": {"direction": {"type": "classification", "weight": 1.0},
                                   "return": {"type": "regression", "target": "forward_return", "weight": 0.25}}})");
  auto batch = generated_batch(16, 5);
  batch.modalities.at("numeric").present.fill_(true);
  const auto out = model->forward(batch);
  EXPECT_EQ(out.predictions.at("direction").sizes(), (std::vector<std::int64_t>{16, 2}));
  EXPECT_EQ(out.predictions.at("return").sizes(), (std::vector<std::int64_t>{16}));
  const auto loss = model->loss(out, batch);
  const double expected = loss.heads.at("direction").item<double>() + 0.25 * loss.heads.at("return").item<double>();
  EXPECT_NEAR(loss.total.item<double>(), expected, 1e-6);
  const double mse = (out.predictions.at("return") - batch.forward_return).pow(2).mean().item<double>();
  EXPECT_NEAR(loss.heads.at("return").item<double>(), mse, 1e-6);
}

// The model of model_json(gated) built from C++ modules instead of configuration.
MultimodalModelOptions typed_options() {
  auto options = MultimodalModelOptions()
                     .encoder("price", encoders::RnnEncoder(encoders::RnnEncoderOptions().cell("gru").hidden(16),
                                                            kSpecs[0]))
                     .encoder("text", encoders::RnnEncoder(encoders::RnnEncoderOptions().hidden(16).embedding_dim(16),
                                                           kSpecs[1]))
                     .encoder("numeric", encoders::MlpEncoder(encoders::MlpEncoderOptions().layers({16}), kSpecs[2]));
  options.fusion(fusion::GatedFusion(fusion::GatedFusionOptions().hidden(8), options.fusion_modalities()))
      .head("direction", ClassificationHead(ClassificationHeadOptions(2).layers({16}), 8));
  return options;
}

TEST(Model, BuiltFromModulesAsFromConfiguration) {
  const std::string json = R"({"encoders": {"price": {"type": "rnn", "cell": "gru", "hidden": 16},
                                           "text": {"type": "rnn", "hidden": 16, "embedding_dim": 16},
                                           "numeric": {"type": "mlp", "layers": [16]}},
                              "fusion": {"type": "gated", "hidden": 8},
                              "heads": {"direction": {"type": "classification", "layers": [16]}}})";
  seed_everything(11);
  MultimodalModel typed(typed_options());
  // The configuration typed.config_json() writes rebuilds the same architecture, parameter for parameter.
  seed_everything(11);
  MultimodalModel rebuilt(Config(typed->config_json()), kSpecs);
  const auto a = typed->named_parameters();
  const auto b = rebuilt->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& item : a) {
    ASSERT_TRUE(b.contains(item.key())) << item.key();
    EXPECT_EQ(item.value().sizes(), b[item.key()].sizes()) << item.key();
  }
  EXPECT_EQ(rebuilt->config_json(), typed->config_json());
  // Encoders are fused in the order they were added; config_json() records it, and a configuration without it orders
  // the modalities by name.
  EXPECT_EQ(typed->modalities(), (std::vector<std::string>{"price", "text", "numeric"}));
  EXPECT_EQ(rebuilt->modalities(), typed->modalities());
  auto ordered = Config::parse(json).json();
  EXPECT_EQ(MultimodalModel(Config(ordered), kSpecs)->modalities(),
            (std::vector<std::string>{"numeric", "price", "text"}));
  ordered["modality_order"] = {"price", "text", "numeric"};
  EXPECT_EQ(MultimodalModel(Config(ordered), kSpecs)->config_json(), typed->config_json());
  ordered["modality_order"] = {"price", "text"};
  EXPECT_THROW(MultimodalModel(Config(ordered), kSpecs), ConfigError);
  // With the weights copied over, the rebuilt model computes what the assembled one does.
  {
    torch::NoGradGuard no_grad;
    const auto source = typed->named_parameters();
    for (auto& item : rebuilt->named_parameters()) {
      item.value().copy_(source[item.key()]);
    }
    typed->eval();
    rebuilt->eval();
    const auto probe = generated_batch(16, 5);
    EXPECT_TRUE(torch::equal(typed->forward(probe).predictions.at("direction"),
                             rebuilt->forward(probe).predictions.at("direction")));
    typed->train();
  }
  // It trains like the configured model.
  const auto batch = generated_batch(64, 21);
  double first = 0.0;
  const double last = train(typed, batch, 40, &first);
  EXPECT_LT(last, 0.6 * first) << "loss " << first << " -> " << last;
}

// An encoder written outside the library and never registered: the mean of the numeric features, and a learned
// projection of them.
class ProjectionEncoderImpl : public encoders::Encoder {
 public:
  ProjectionEncoderImpl(encoders::ModalitySpec spec, std::int64_t width)
      : Encoder(spec), linear_(register_module("linear", torch::nn::Linear(spec.shape[0], width))) {}
  encoders::EncoderOutput encode(const data::ModalityBatch& input) override {
    check_input(input.values, false);
    return encoders::EncoderOutput{torch::tanh(linear_->forward(input.values)), {}, {}};
  }
  std::int64_t output_size() const override { return linear_->options.out_features(); }
  Json options_json() const override { return Json{{"type", "test_projection"}}; }

 private:
  torch::nn::Linear linear_;
};

TEST(Model, AnEncoderOfOnesOwnPlugsInWithoutARegistryName) {
  auto options = MultimodalModelOptions()
                     .encoder("price", encoders::RnnEncoder(encoders::RnnEncoderOptions().hidden(16), kSpecs[0]))
                     .encoder("numeric", std::make_shared<ProjectionEncoderImpl>(kSpecs[2], 12));
  options.head("direction", ClassificationHead(ClassificationHeadOptions(2), 16 + 12)).modality_dropout(0.1);
  seed_everything(2);
  MultimodalModel model(options);
  EXPECT_EQ(model->fusion().options_json()["type"], "concat");
  EXPECT_EQ(model->config_json()["encoders"]["numeric"]["type"], "test_projection");
  EXPECT_EQ(model->config_json()["modality_dropout"], 0.1);
  auto batch = generated_batch(64, 21);
  double first = 0.0;
  const double last = train(model, batch, 40, &first);
  EXPECT_LT(last, 0.8 * first) << "loss " << first << " -> " << last;
}

TEST(Model, PartsThatDoNotFitAreRefused) {
  const auto message = [](const std::function<void()>& build_model) {
    try {
      build_model();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto price = [] {
    return encoders::RnnEncoder(encoders::RnnEncoderOptions().hidden(16), kSpecs[0]);
  };
  EXPECT_NE(message([&] { MultimodalModelOptions().encoder("price", price()).encoder("price", price()); })
                .find("already has an encoder"),
            std::string::npos);
  // A head that reads another width than the fusion delivers.
  EXPECT_NE(message([&] {
              MultimodalModel(MultimodalModelOptions().encoder("price", price()).head(
                  "y", ClassificationHead(ClassificationHeadOptions(2), 32)));
            }).find("head 'y' reads vectors of width 32, the fusion layer delivers 16"),
            std::string::npos);
  // A fusion built for other modalities.
  EXPECT_NE(message([&] {
              auto options = MultimodalModelOptions().encoder("price", price());
              fusion::FusionModality text;
              text.name = "text";
              text.size = 16;
              options.fusion(fusion::GatedFusion(fusion::GatedFusionOptions().hidden(8), std::vector{text}))
                  .head("y", ClassificationHead(ClassificationHeadOptions(2), 8));
              MultimodalModel model(options);
            }).find("built for the modalities text (16)"),
            std::string::npos);
  EXPECT_NE(message([&] { MultimodalModel(MultimodalModelOptions().encoder("price", price())); }).find("no head"),
            std::string::npos);
  EXPECT_NE(message([&] {
              MultimodalModel(MultimodalModelOptions()
                                  .encoder("price", price())
                                  .head("y", ClassificationHead(ClassificationHeadOptions(2), 16))
                                  .all_missing("skip"));
            }).find("all_missing"),
            std::string::npos);
  EXPECT_NE(message([&] {
              MultimodalModel(MultimodalModelOptions()
                                  .encoder("price", price())
                                  .head("y", ClassificationHead(ClassificationHeadOptions(2), 16))
                                  .modality_dropout(1.0));
            }).find("/modality_dropout: must be in [0, 1), got 1"),
            std::string::npos);
  // The behaviour set in C++ is what config_json() writes and a configuration reads back.
  MultimodalModel model(MultimodalModelOptions()
                            .encoder("price", price())
                            .head("y", ClassificationHead(ClassificationHeadOptions(2), 16))
                            .modality_dropout(0.25)
                            .all_missing("embedding")
                            .parallel_encoders(ParallelEncoders::automatic));
  const Json written = model->config_json();
  EXPECT_EQ(written["modality_dropout"], 0.25);
  EXPECT_EQ(written["all_missing"], "embedding");
  EXPECT_EQ(written["parallel_encoders"], "auto");
  const auto read = MultimodalModelOptions::from_config(Config(Json{
      {"modality_dropout", 0.25}, {"all_missing", "embedding"}, {"parallel_encoders", true}}));
  EXPECT_EQ(read.parallel_encoders(), ParallelEncoders::always);
  EXPECT_EQ(read.all_missing(), "embedding");
}

TEST(Model, SummaryTableAndResolvedConfig) {
  auto model = build(model_json(R"({"type": "gated", "hidden": 8})"));
  const auto table = model->summary(generated_batch(4, 6));
  for (const std::string row : {"encoders.price (rnn)", "encoders.text (rnn)", "encoders.numeric (mlp)", "missing",
                                "fusion (gated)", "heads.direction (classification)", "[B, 8]", "[B, 2]", "total"}) {
    EXPECT_NE(table.find(row), std::string::npos) << row << " missing from\n" << table;
  }
  // The resolved configuration rebuilds the same architecture.
  auto again = MultimodalModel(Config(model->config_json()), kSpecs);
  EXPECT_EQ(again->parameter_count(), model->parameter_count());
  EXPECT_EQ(again->config_json(), model->config_json());
}

TEST(Model, ConfigurationErrorsNameTheirPath) {
  const auto message = [](const std::string& json) {
    try {
      build(json);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"encoders": {"prices": {"type": "rnn"}}, "heads": {"y": {}}})").find("/encoders/prices"),
            std::string::npos);
  EXPECT_NE(message(R"({"encoders": {"prices": {"type": "rnn"}}, "heads": {"y": {}}})").find("did you mean 'price'"),
            std::string::npos);
  EXPECT_NE(message(R"({"encoders": {"price": {"type": "rnn"}}, "heads": {}})").find("/heads"), std::string::npos);
  EXPECT_NE(message(R"({"encoders": {"price": {"type": "rnn"}}, "heads": {"y": {"type": "clasification"}}})")
                .find("/heads/y/type"),
            std::string::npos);
  EXPECT_NE(message(R"({"encoders": {"price": {"type": "rnn"}}, "heads": {"y": {}}, "fusoin": {}})").find("/fusoin"),
            std::string::npos);
  EXPECT_NE(message(R"({"encoders": {"price": {"type": "rnn"}}, "heads": {"y": {}}, "fusion": {"type": "gated",
                        "hidden": -1}})")
                .find("/fusion/hidden"),
            std::string::npos);
}

TEST(Model, ClassTargetsOutOfRangeAreReported) {
  auto model = build(R"({"encoders": {"numeric": {"type": "mlp", "layers": [4]}},
                         "heads": {"direction": {"type": "classification"}}})");
  auto batch = generated_batch(4, 7);
  batch.target = torch::tensor({0.0F, 1.0F, 2.0F, 1.0F});
  EXPECT_THROW(model->loss(model->forward(batch), batch), Error);
  batch.target = torch::tensor({0.0F, 0.5F, 1.0F, 1.0F});
  EXPECT_THROW(model->loss(model->forward(batch), batch), Error);
}

TEST(Model, TrainsOnGpu_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  for (const std::string fusion : {R"({"type": "attention", "hidden": 16, "heads": 2})",
                                   R"({"type": "graph", "layer": "gat", "heads": 2, "hidden": 16})"}) {
    auto model = build(model_json(fusion));
    model->to(torch::kCUDA);
    const auto batch = generated_batch(32, 9).to(torch::kCUDA);
    double first = 0.0;
    const double last = train(model, batch, 30, &first);
    EXPECT_LT(last, first) << fusion;
    EXPECT_TRUE(model->forward(batch).predictions.at("direction").is_cuda());
  }
}

TEST(Ablation, MaskingTheInformativeModalityCostsTheMost) {
  // Only the numeric feature carries the label here.
  auto batch = generated_batch(256, 8);
  batch.modalities.at("numeric").present.fill_(true);
  batch.target = (batch.modalities.at("numeric").values.select(1, 0) > 0).to(torch::kFloat32);
  seed_everything(2);
  auto model = build(model_json(R"({"type": "concat"})"));
  train(model, batch, 60, nullptr);
  const auto result = modality_ablation(*model, std::vector<data::Batch>{batch});
  ASSERT_EQ(result.masked, (std::vector<std::string>{"none", "numeric", "price", "text"}));
  ASSERT_EQ(result.metrics, (std::vector<std::string>{"direction.loss", "direction.accuracy"}));
  EXPECT_EQ(result.samples, 256);
  EXPECT_GT(result.values[0][1], 0.9);
  EXPECT_LT(result.delta(1, 1), -0.1) << result.table();
  EXPECT_LT(result.delta(1, 1), result.delta(2, 1)) << result.table();
  EXPECT_LT(result.delta(1, 1), result.delta(3, 1)) << result.table();
  EXPECT_EQ(result.to_json()["rows"][1]["masked"], "numeric");
  EXPECT_NE(result.table().find("numeric"), std::string::npos);
  EXPECT_TRUE(model->is_training()) << "the model's mode is restored";
}

}  // namespace
}  // namespace finfuse::models
