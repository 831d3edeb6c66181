// Parity with Python PyTorch: references written by tests/encoders/parity/make_references.py (torchvision's
// resnet18; a BERT built from torch.nn layers) are loaded into finfuse's encoders, which must reproduce the outputs.
#include "finfuse/encoders/encoder.h"
#include "finfuse/encoders/pretrained.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace finfuse::encoders {
namespace {

std::filesystem::path parity_dir() {
  const char* dir = std::getenv("FINFUSE_PARITY_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path();
}

#define FINFUSE_REQUIRE_PARITY_FILES(name)                                                                 \
  if (parity_dir().empty() || !std::filesystem::exists(parity_dir() / (name))) {                          \
    GTEST_SKIP() << "Python reference files not available (ctest runs this with FINFUSE_PARITY_DIR after " \
                    "make_references.py, which needs Debian's python3-torch and python3-torchvision)";    \
  }

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

TEST(Parity, OrderedDictStateDictsGetAClearMessage) {
  FINFUSE_REQUIRE_PARITY_FILES("resnet18_ordered.pth");
  try {
    read_weights(parity_dir() / "resnet18_ordered.pth");
    FAIL() << "LibTorch read an OrderedDict state dict; the workaround in the message can go";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("torch.save(dict(model.state_dict()), path)"), std::string::npos) << e.what();
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
