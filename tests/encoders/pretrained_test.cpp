#include "finfuse/encoders/pretrained.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/encoders/rnn_encoder.h"

#include <torch/serialize.h>

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

}  // namespace
}  // namespace finfuse::encoders
