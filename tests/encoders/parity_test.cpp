// Parity with Python PyTorch: references written by tests/parity/make_references.py (torchvision's
// resnet18; a BERT built from torch.nn layers) are loaded into finfuse's encoders, which must reproduce the outputs.
#include "finfuse/encoders/encoder.h"
#include "finfuse/encoders/pretrained.h"
#include "finfuse/formats/torch_save.h"
#include "support/parity.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

namespace finfuse::encoders {
namespace {

using finfuse::testing::parity_dir;

TEST(Parity, ResNet18MatchesTorchvision) {
  FINFUSE_REQUIRE_PARITY_FILES("resnet18_io.pth");
  const auto encoder = make_encoder(Config::parse(R"({"type": "resnet", "depth": 18})"), ModalitySpec("image", {3, 64, 64}));
  const auto report = load_weights(*encoder, read_weights(parity_dir() / "resnet18.pth"), torchvision_resnet_mapping());
  EXPECT_TRUE(report.missing.empty());
  encoder->eval();
  const auto io = read_weights(parity_dir() / "resnet18_io.pth");
  torch::NoGradGuard no_grad;
  const auto out = encoder->encode(data::ModalityBatch{io.at("input"), torch::Tensor(), torch::Tensor()}).pooled;
  const double error = (out - io.at("expected")).abs().max().item<double>();
  EXPECT_LT(error, 1e-5) << "max abs difference " << error;
  std::printf("resnet18 vs torchvision: max abs difference %.3g\n", error);
}

// Objects written by Python's torch.save (protocols 2 and 4) whose values the test knows independently.
TEST(Parity, TorchSaveObjectsReadBack) {
  FINFUSE_REQUIRE_PARITY_FILES("pickle_cases.pth");
  for (const char* name : {"pickle_cases.pth", "pickle_cases_protocol4.pth"}) {
    SCOPED_TRACE(name);
    const auto value = formats::read_torch_save(parity_dir() / name);
    ASSERT_TRUE(value.isGenericDict());
    const auto dict = value.toGenericDict();
    const auto at = [&](const std::string& key) { return dict.at(c10::IValue(key)); };
    std::vector<std::string> keys;
    for (const auto& item : dict) {
      keys.push_back(item.key().isString() ? item.key().toStringRef() : "?");
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"transposed", "slice", "shared", "parameter", "int64", "bool", "half",
                                              "empty", "scalar", "numbers", "nested"}))
        << "insertion order is kept";
    const auto base = torch::arange(24, torch::kFloat32).reshape({4, 6});
    EXPECT_TRUE(torch::equal(at("shared").toTensor(), base));
    EXPECT_TRUE(torch::equal(at("transposed").toTensor(), base.t()));
    EXPECT_FALSE(at("transposed").toTensor().is_contiguous());
    EXPECT_TRUE(torch::equal(at("slice").toTensor(), base.slice(0, 1, 3).slice(1, 2, 5)));
    EXPECT_EQ(at("slice").toTensor().storage().data(), at("shared").toTensor().storage().data())
        << "views of one storage share it, as in Python";
    EXPECT_TRUE(torch::equal(at("parameter").toTensor(), torch::full({2, 3}, 0.5, torch::kFloat64)));
    EXPECT_TRUE(torch::equal(at("int64").toTensor(),
                             torch::tensor({-(std::int64_t{1} << 40), std::int64_t{7}, std::int64_t{1} << 62})));
    EXPECT_TRUE(torch::equal(at("bool").toTensor(), torch::tensor({true, false, true})));
    EXPECT_TRUE(torch::equal(at("half").toTensor().to(torch::kFloat32), torch::tensor({1.5F, -2.25F})));
    EXPECT_EQ(at("half").toTensor().scalar_type(), torch::kHalf);
    EXPECT_EQ(at("empty").toTensor().sizes(), (std::vector<std::int64_t>{0, 3}));
    EXPECT_EQ(at("scalar").toTensor().dim(), 0);
    EXPECT_EQ(at("scalar").toTensor().item<float>(), 3.25F);

    const auto numbers = at("numbers").toList();
    ASSERT_EQ(numbers.size(), 11U);
    EXPECT_EQ(numbers.get(0).toInt(), 1);
    EXPECT_EQ(numbers.get(1).toInt(), -1);
    EXPECT_EQ(numbers.get(2).toInt(), 300);
    EXPECT_EQ(numbers.get(3).toInt(), -70000);
    EXPECT_EQ(numbers.get(4).toInt(), std::int64_t{1} << 40);
    EXPECT_EQ(numbers.get(5).toInt(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(numbers.get(6).toDouble(), 2.5);
    EXPECT_TRUE(numbers.get(7).toBool());
    EXPECT_TRUE(numbers.get(8).isNone());
    EXPECT_EQ(numbers.get(9).toStringRef(), "text \u00e9");
    EXPECT_EQ(numbers.get(10).toStringRef(), std::string("\x00\xff", 2));

    const auto nested = at("nested").toGenericDict();
    const auto tuple = nested.at(c10::IValue(std::string("tuple"))).toTuple();
    ASSERT_EQ(tuple->elements().size(), 2U);
    EXPECT_EQ(tuple->elements()[0].toInt(), 1);
    EXPECT_EQ(tuple->elements()[1].toTuple()->elements()[1].toInt(), 3);
    EXPECT_EQ(nested.at(c10::IValue(std::int64_t{7})).toStringRef(), "int key");
  }
}

TEST(Parity, BertStyleEncoderMatchesTorchNnReference) {
  FINFUSE_REQUIRE_PARITY_FILES("bert_io.pth");
  const auto encoder = make_encoder(Config::parse(R"({"type": "transformer", "hidden": 32, "layers": 2, "heads": 4,
                                                     "intermediate": 64, "max_positions": 16, "dropout": 0.0})"),
                                    ModalitySpec("text", {10}, 100));
  load_weights(*encoder, read_weights(parity_dir() / "bert.pth"), bert_mapping());
  encoder->eval();
  const auto io = read_weights(parity_dir() / "bert_io.pth");
  torch::NoGradGuard no_grad;
  const auto out = encoder->encode(
      data::ModalityBatch{io.at("input_ids"), io.at("attention_mask").to(torch::kBool), torch::Tensor()});
  const double cls_error = (out.pooled - io.at("expected_cls")).abs().max().item<double>();
  EXPECT_LT(cls_error, 1e-5) << "max abs difference " << cls_error;
  // Real tokens match everywhere; padded positions are not compared (neither side defines them).
  const auto mask = io.at("attention_mask").to(torch::kBool).unsqueeze(-1);
  const double hidden_error =
      ((out.tokens - io.at("expected_hidden")).abs() * mask).max().item<double>();
  EXPECT_LT(hidden_error, 1e-5) << "max abs difference " << hidden_error;
  std::printf("BERT-style encoder vs torch.nn reference: max abs difference %.3g ([CLS]), %.3g (tokens)\n", cls_error,
              hidden_error);
}

}  // namespace
}  // namespace finfuse::encoders
