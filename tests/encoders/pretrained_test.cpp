#include "finfuse/encoders/pretrained.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/encoders/rnn_encoder.h"
#include "finfuse/encoders/transformer_encoder.h"
#include "finfuse/formats/safetensors.h"

#include <torch/serialize.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace finfuse::encoders {
namespace {

class PretrainedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_everything(5);
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("finfuse_pretrained_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // What Python's torch.save(model.state_dict()) writes: a pickled dict of tensors in the zip format.
  std::filesystem::path save_state_dict(const TensorMap& tensors, const std::string& name) {
    c10::Dict<std::string, torch::Tensor> dict;
    for (const auto& [key, value] : tensors) {
      dict.insert(key, value);
    }
    const auto bytes = torch::pickle_save(dict);
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  static TensorMap state_of(torch::nn::Module& module, const std::string& prefix = "") {
    TensorMap out;
    for (const auto& p : module.named_parameters()) {
      out.emplace(prefix + p.key(), p.value().detach().clone());
    }
    for (const auto& b : module.named_buffers()) {
      out.emplace(prefix + b.key(), b.value().detach().clone());
    }
    return out;
  }

  std::filesystem::path dir_;
};

data::ModalityBatch images(const torch::Tensor& x) { return data::ModalityBatch{x, torch::Tensor(), torch::Tensor()}; }

TEST_F(PretrainedTest, TorchvisionStyleResNetCheckpointLoadsByName) {
  const ModalitySpec spec("image", {3, 32, 32});
  const auto source = make_encoder(Config::parse(R"({"type": "resnet"})"), spec);
  auto checkpoint = state_of(*source);
  checkpoint.emplace("fc.weight", torch::randn({1000, 512}));  // the classifier finfuse does not have
  checkpoint.emplace("fc.bias", torch::randn({1000}));
  const auto path = save_state_dict(checkpoint, "resnet18.pth");

  seed_everything(6);
  const auto target = make_encoder(Config::parse(R"({"type": "resnet"})"), spec);
  const auto report = load_weights(*target, read_weights(path), torchvision_resnet_mapping());
  EXPECT_TRUE(report.missing.empty());
  EXPECT_EQ(report.loaded.size(), checkpoint.size() - 2);
  source->eval();
  target->eval();
  const auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::allclose(source->encode(images(x)).pooled, target->encode(images(x)).pooled));
}

TEST_F(PretrainedTest, MisfitsAreReportedByName) {
  const ModalitySpec spec("image", {1, 32, 32});
  const auto encoder = make_encoder(Config::parse(R"({"type": "resnet"})"), spec);
  auto checkpoint = state_of(*encoder);
  checkpoint["conv1.weight"] = torch::randn({64, 3, 7, 7});  // an RGB stem for a grey encoder
  checkpoint.erase("layer4.1.bn2.bias");
  checkpoint.emplace("layer5.0.conv1.weight", torch::randn({1}));
  const auto before = encoder->named_parameters()["bn1.weight"].clone();
  try {
    load_weights(*encoder, checkpoint);
    FAIL();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("missing layer4.1.bn2.bias"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected layer5.0.conv1.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("conv1.weight: checkpoint [64, 3, 7, 7] vs module [64, 1, 7, 7]"), std::string::npos) << what;
  }
  EXPECT_TRUE(torch::equal(before, encoder->named_parameters()["bn1.weight"]));  // strict: nothing changed
  const auto report = load_weights(*encoder, checkpoint, {}, /*strict=*/false);
  EXPECT_EQ(report.missing, std::vector<std::string>{"layer4.1.bn2.bias"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"layer5.0.conv1.weight"});
  EXPECT_EQ(report.mismatched.size(), 1u);
}

TEST_F(PretrainedTest, BertCheckpointNamesMapOntoTheTransformer) {
  const ModalitySpec spec("text", {8}, 50);
  const std::string json = R"({"type": "transformer", "hidden": 8, "layers": 1, "heads": 2, "intermediate": 16,
                              "max_positions": 8, "dropout": 0.0})";
  const auto source = make_encoder(Config::parse(json), spec);
  auto checkpoint = state_of(*source, "bert.");
  checkpoint.emplace("bert.pooler.dense.weight", torch::randn({8, 8}));
  checkpoint.emplace("cls.predictions.bias", torch::randn({50}));
  checkpoint.emplace("bert.embeddings.position_ids", torch::arange(8).unsqueeze(0));
  seed_everything(9);
  const auto target = make_encoder(Config::parse(json), spec);
  load_weights(*target, read_weights(save_state_dict(checkpoint, "bert.bin")), bert_mapping());
  const auto ids = torch::randint(1, 50, {2, 8}, torch::kInt64);
  const data::ModalityBatch batch{ids, torch::ones({2, 8}, torch::kBool), torch::Tensor()};
  EXPECT_TRUE(torch::allclose(source->encode(batch).pooled, target->encode(batch).pooled));
}

// Writes a safetensors file: little-endian header length, JSON header, raw bytes.
void write_safetensors(const std::filesystem::path& path, const Json& header, const std::string& data) {
  const std::string text = header.dump();
  std::ofstream out(path, std::ios::binary);
  std::uint64_t size = text.size();
  for (int i = 0; i < 8; ++i) {
    out.put(static_cast<char>((size >> (8 * i)) & 0xff));
  }
  out << text << data;
}

TEST_F(PretrainedTest, Safetensors) {
  const float weights[] = {1.5f, -2.0f, 0.25f, 4.0f, 5.0f, 6.0f};
  const std::int64_t steps[] = {7, 8};
  std::string data(reinterpret_cast<const char*>(weights), sizeof(weights));
  data.append(reinterpret_cast<const char*>(steps), sizeof(steps));
  const Json header = {{"w", {{"dtype", "F32"}, {"shape", {2, 3}}, {"data_offsets", {0, 24}}}},
                       {"steps", {{"dtype", "I64"}, {"shape", {2}}, {"data_offsets", {24, 40}}}},
                       {"__metadata__", {{"format", "pt"}}}};
  write_safetensors(dir_ / "model.safetensors", header, data);
  const auto tensors = read_weights(dir_ / "model.safetensors");
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_TRUE(torch::equal(tensors.at("w"), torch::tensor({{1.5f, -2.0f, 0.25f}, {4.0f, 5.0f, 6.0f}})));
  EXPECT_EQ(tensors.at("steps")[1].item<std::int64_t>(), 8);

  Json bad = header;
  bad["w"]["data_offsets"] = {0, 20};
  write_safetensors(dir_ / "bad.safetensors", bad, data);
  try {
    read_weights(dir_ / "bad.safetensors");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.field(), "w");
  }
  write_safetensors(dir_ / "cut.safetensors", header, data.substr(0, 30));
  EXPECT_THROW(read_weights(dir_ / "cut.safetensors"), DataError);
  std::ofstream(dir_ / "tiny.safetensors") << "abc";
  EXPECT_THROW(read_weights(dir_ / "tiny.safetensors"), DataError);
  // Sizes whose product overflows 64 bits are refused by name, before anything is allocated.
  for (const auto& shape : {Json::array({std::int64_t{1} << 40, std::int64_t{1} << 40}),
                            Json::array({std::int64_t{1} << 61, 8})}) {
    Json huge = {{"w", {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {0, 24}}}}};
    write_safetensors(dir_ / "huge.safetensors", huge, data);
    try {
      read_weights(dir_ / "huge.safetensors");
      ADD_FAILURE() << "expected a DataError for shape " << shape.dump();
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("64 bits"), std::string::npos) << e.what();
    }
  }
  std::ofstream(dir_ / "junk.pth") << "not a checkpoint";
  EXPECT_THROW(read_weights(dir_ / "junk.pth"), DataError);
  EXPECT_THROW(read_weights(dir_ / "absent.pth"), IoError);
}

TEST_F(PretrainedTest, WordVectorsInGloveAndWord2vecFormat) {
  const std::vector<std::string> vocabulary = {"[PAD]", "[UNK]", "stock", "rally", "zzz"};
  auto embedding = torch::zeros({5, 3});
  std::ofstream(dir_ / "glove.txt") << "stock 0.1 0.2 0.3\nother 1 1 1\nrally -1 0 1e-2\n";
  const auto report = load_word_vectors(dir_ / "glove.txt", vocabulary, embedding);
  EXPECT_EQ(report.found, 2);
  EXPECT_TRUE(torch::allclose(embedding[2], torch::tensor({0.1f, 0.2f, 0.3f})));
  EXPECT_TRUE(torch::allclose(embedding[3], torch::tensor({-1.0f, 0.0f, 0.01f})));
  EXPECT_EQ(embedding[4].abs().sum().item<float>(), 0.0f);
  std::ofstream(dir_ / "w2v.txt") << "2 3\nzzz 1 2 3\nstock 4 5 6\n";
  EXPECT_EQ(load_word_vectors(dir_ / "w2v.txt", vocabulary, embedding).found, 2);
  EXPECT_FLOAT_EQ(embedding[4][2].item<float>(), 3.0f);
  std::ofstream(dir_ / "bad.txt") << "stock 1 2\n";
  try {
    load_word_vectors(dir_ / "bad.txt", vocabulary, embedding);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 1);
    EXPECT_EQ(e.field(), "stock");
  }
  std::ofstream(dir_ / "nan.txt") << "rally 1 nan 2\n";
  EXPECT_THROW(load_word_vectors(dir_ / "nan.txt", vocabulary, embedding), DataError);
}

}  // namespace
}  // namespace finfuse::encoders

namespace finfuse::encoders {
namespace {

TEST_F(PretrainedTest, FrozenOrFineTunedWordVectorsInTheRnnEncoder) {
  std::ofstream(dir_ / "vectors.txt") << "stock 0.5 0.5 0.5 0.5\nrally 1 1 1 1\n";
  const std::vector<std::string> vocabulary = {"[PAD]", "[UNK]", "stock", "rally"};
  for (const bool freeze : {true, false}) {
    auto encoder = std::make_shared<RnnEncoderImpl>(
        RnnEncoderOptions::from_config(Config::parse(R"({"hidden": 3, "embedding_dim": 4})")),
        ModalitySpec("text", {3}, 4));
    EXPECT_EQ(encoder->load_pretrained_vectors(dir_ / "vectors.txt", vocabulary, freeze), 2);
    EXPECT_TRUE(torch::allclose(encoder->embedding()->weight[3], torch::ones({4})));
    const auto out = encoder->encode(data::ModalityBatch{torch::tensor({{2, 3, 0}}, torch::kInt64),
                                                         torch::tensor({{true, true, false}}), torch::Tensor()});
    out.pooled.sum().backward();
    EXPECT_EQ(encoder->embedding()->weight.grad().defined(), !freeze);
  }
  auto wrong = std::make_shared<RnnEncoderImpl>(RnnEncoderOptions{}, ModalitySpec("text", {3}, 9));
  EXPECT_THROW(wrong->load_pretrained_vectors(dir_ / "vectors.txt", vocabulary, true), Error);
}

// "pretrained" in an encoder's configuration: a Hugging Face folder (here written by finfuse itself, which
// transformers' BertModel reads: tests/parity) gives the architecture and the weights.
std::vector<std::string> test_vocabulary(std::int64_t n) {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  while (static_cast<std::int64_t>(tokens.size()) < n) {
    tokens.push_back(fmt::format("w{}", tokens.size()));
  }
  return tokens;
}

// An encoder's options with "pretrained" (built as JSON: no string concatenation of configuration text).
Config with_source(Json options, const std::filesystem::path& path, const std::string& format = "") {
  options["pretrained"] = Json{{"path", path.string()}};
  if (!format.empty()) {
    options["pretrained"]["format"] = format;
  }
  return Config(std::move(options));
}

TEST_F(PretrainedTest, HuggingFaceFolderFromConfigurationGivesArchitectureAndWeights) {
  const ModalitySpec spec("text", {8}, 30);
  const auto source = std::dynamic_pointer_cast<TransformerEncoderImpl>(make_encoder(
      Config::parse(R"({"type": "transformer", "hidden": 16, "layers": 2, "heads": 2, "intermediate": 24,
                        "max_positions": 12, "dropout": 0.2})"),
      spec));
  ASSERT_TRUE(source);
  write_huggingface_bert(dir_ / "model", *source, test_vocabulary(30), true);
  for (const char* file : {"config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ / "model" / file)) << file;
  }
  seed_everything(9);
  const auto config = with_source({{"type", "transformer"}, {"pooling", "mean"}}, dir_ / "model", "huggingface");
  const auto target = std::dynamic_pointer_cast<TransformerEncoderImpl>(make_encoder(config, spec));
  ASSERT_TRUE(target);
  // The architecture is the folder's (every key left out of the configuration), the pooling the configuration's.
  const auto options = target->options_json();
  EXPECT_EQ(options.at("hidden"), 16);
  EXPECT_EQ(options.at("layers"), 2);
  EXPECT_EQ(options.at("intermediate"), 24);
  EXPECT_EQ(options.at("max_positions"), 12);
  EXPECT_DOUBLE_EQ(options.at("dropout").get<double>(), 0.2);
  EXPECT_EQ(options.at("pooling"), "mean");
  EXPECT_EQ(options.at("vocab_size"), 30);
  EXPECT_FALSE(options.contains("pretrained"));  // what a bundle stores names no source
  const auto expected = state_of(*source);
  for (const auto& [name, tensor] : state_of(*target)) {
    ASSERT_TRUE(expected.count(name)) << name;
    EXPECT_TRUE(torch::equal(tensor, expected.at(name))) << name;
  }
  // Rebuilt from its options alone (as from a bundle), it has the same architecture and needs no folder.
  std::filesystem::rename(dir_ / "model", dir_ / "moved");
  const auto rebuilt = make_encoder(Config(options), spec);
  EXPECT_EQ(rebuilt->parameter_count(), target->parameter_count());
}

TEST_F(PretrainedTest, HuggingFaceArchitectureThatDisagreesWithTheConfigurationIsAnError) {
  const ModalitySpec spec("text", {8}, 30);
  const auto source = std::dynamic_pointer_cast<TransformerEncoderImpl>(make_encoder(
      Config::parse(R"({"type": "transformer", "hidden": 16, "layers": 1, "heads": 2, "intermediate": 24,
                        "max_positions": 12})"),
      spec));
  write_huggingface_bert(dir_ / "model", *source, test_vocabulary(30), true);
  const auto model = dir_ / "model";
  // Agreeing keys may be given.
  EXPECT_NO_THROW(make_encoder(with_source({{"type", "transformer"}, {"hidden", 16}}, model, "huggingface"), spec));
  try {
    make_encoder(with_source({{"type", "transformer"}, {"hidden", 32}}, model, "huggingface"), spec);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/hidden");
    EXPECT_NE(e.reason().find("configured 32"), std::string::npos) << e.what();
    EXPECT_NE(e.reason().find("has 16 (config.json's hidden_size)"), std::string::npos) << e.what();
  }
  // A format the encoder does not take names the encoder.
  try {
    make_encoder(with_source({{"type", "rnn"}}, model, "huggingface"), spec);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/pretrained/format");
    EXPECT_NE(e.reason().find("rnn"), std::string::npos) << e.what();
  }
  // A modality with fewer tokens than the model's embedding keeps the model's rows; more is an error.
  EXPECT_NO_THROW(make_encoder(with_source({{"type", "transformer"}}, model, "huggingface"),
                               ModalitySpec("text", {8}, 20)));
  EXPECT_THROW(make_encoder(with_source({{"type", "transformer"}}, model, "huggingface"),
                            ModalitySpec("text", {8}, 40)),
               Error);
}

TEST_F(PretrainedTest, TorchvisionFromConfigurationWithAGreyStemAndADepthCheck) {
  seed_everything(3);
  const auto rgb = make_encoder(Config::parse(R"({"type": "resnet"})"), ModalitySpec("image", {3, 32, 32}));
  auto checkpoint = state_of(*rgb);
  checkpoint.emplace("fc.weight", torch::randn({1000, 512}));
  checkpoint.emplace("fc.bias", torch::randn({1000}));
  formats::write_safetensors(dir_ / "resnet18.safetensors", checkpoint);
  const auto source = dir_ / "resnet18.safetensors";
  // A grey image's stem sums the RGB filters; the new projection starts afresh.
  const auto grey = make_encoder(with_source({{"type", "resnet"}, {"output", 16}}, source, "torchvision"),
                                 ModalitySpec("image", {1, 32, 32}));
  const auto loaded = state_of(*grey);
  EXPECT_TRUE(torch::allclose(loaded.at("conv1.weight"), checkpoint.at("conv1.weight").sum(1, true)));
  EXPECT_TRUE(torch::equal(loaded.at("layer4.1.conv2.weight"), checkpoint.at("layer4.1.conv2.weight")));
  EXPECT_TRUE(torch::equal(loaded.at("bn1.running_var"), checkpoint.at("bn1.running_var")));
  try {
    make_encoder(with_source({{"type", "resnet"}, {"depth", 34}}, source, "torchvision"), ModalitySpec("image", {3, 32, 32}));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/pretrained/path");
    EXPECT_NE(e.reason().find("holds a ResNet-18"), std::string::npos) << e.what();
  }
}

TEST_F(PretrainedTest, WordVectorsAndOwnWeightsFromConfiguration) {
  ModalitySpec spec("text", {6}, 4);
  spec.vocabulary = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"[PAD]", "[UNK]", "rise", "fall"});
  std::ofstream(dir_ / "vectors.txt") << "rise 1 2 3 4\nfall -1 -2 -3 -4\nother 9 9 9 9\n";
  const auto rnn = std::dynamic_pointer_cast<RnnEncoderImpl>(make_encoder(
      with_source({{"type", "rnn"}, {"embedding_dim", 4}}, dir_ / "vectors.txt", "word_vectors"), spec));
  ASSERT_TRUE(rnn);
  EXPECT_TRUE(torch::equal(rnn->embedding()->weight[2], torch::tensor({1.0F, 2.0F, 3.0F, 4.0F})));
  EXPECT_TRUE(torch::equal(rnn->embedding()->weight[3], torch::tensor({-1.0F, -2.0F, -3.0F, -4.0F})));
  // A wrong dimension is the file's error, naming the line.
  EXPECT_THROW(make_encoder(with_source({{"type", "rnn"}, {"embedding_dim", 5}}, dir_ / "vectors.txt", "word_vectors"),
                            spec),
               DataError);

  // "weights": a state dict under finfuse's model names ("encoders.text.") loads into the encoder by its own.
  TensorMap own;
  for (const auto& [name, tensor] : state_of(*rnn)) {
    own.emplace("encoders.text." + name, tensor + 1.0);
  }
  formats::write_safetensors(dir_ / "text.safetensors", own);
  const auto copy = make_encoder(with_source({{"type", "rnn"}, {"embedding_dim", 4}}, dir_ / "text.safetensors"), spec);
  for (const auto& [name, tensor] : state_of(*copy)) {
    EXPECT_TRUE(torch::equal(tensor, own.at("encoders.text." + name))) << name;
  }
  // Strict: a tensor the file lacks is named.
  own.erase(own.begin());
  formats::write_safetensors(dir_ / "partial.safetensors", own);
  try {
    make_encoder(with_source({{"type", "rnn"}, {"embedding_dim", 4}}, dir_ / "partial.safetensors"), spec);
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing embedding.weight"), std::string::npos) << e.what();
  }
}

TEST_F(PretrainedTest, SafetensorsWrittenAndReadBack) {
  TensorMap tensors = {{"a", torch::randn({3, 5})},
                       {"b", torch::arange(7, torch::kInt64)},
                       {"c", torch::randn({2, 2}).to(torch::kBFloat16)},
                       {"d", torch::tensor({true, false})}};
  formats::write_safetensors(dir_ / "t.safetensors", tensors);
  const auto back = formats::read_safetensors(dir_ / "t.safetensors");
  ASSERT_EQ(back.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    EXPECT_EQ(back.at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(back.at(name), tensor)) << name;
  }
  // The data start at an 8-byte boundary, as the reference writer keeps them.
  std::ifstream in(dir_ / "t.safetensors", std::ios::binary);
  unsigned char size[8];
  in.read(reinterpret_cast<char*>(size), 8);
  EXPECT_EQ(size[0] % 8, 0);
}

}  // namespace
}  // namespace finfuse::encoders
