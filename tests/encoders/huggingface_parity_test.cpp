// finfuse's BERT-style encoder against Hugging Face transformers' BertModel: tests/parity/bert_hf_references.py builds
// a small BertModel with random weights, saves it as Hugging Face folders (safetensors and .bin, with and without the
// "bert." prefix, old LayerNorm gamma/beta names) and records its last hidden states for a padded batch with a
// sentence pair's token types. Each folder, read with read_huggingface_bert, must give them to 1e-5.
#include "finfuse/encoders/pretrained.h"
#include "finfuse/encoders/transformer_encoder.h"

#include "finfuse/core/config.h"
#include "finfuse/core/error.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/data/modality_spec.h"
#include "finfuse/formats/safetensors.h"

#include <gtest/gtest.h>
#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace finfuse::encoders {
namespace {

TEST(HuggingFaceParity, BertFoldersGiveTransformersHiddenStates) {
  const char* dir = std::getenv("FINFUSE_HF_PARITY_DIR");
  if (dir == nullptr) {
    GTEST_SKIP() << "FINFUSE_HF_PARITY_DIR is not set (ctest sets it where a Python with torch and transformers exists)";
  }
  const std::filesystem::path root(dir);
  const auto io = formats::read_safetensors(root / "io.safetensors");
  const auto ids = io.at("input_ids");
  const auto mask = io.at("attention_mask").to(torch::kBool);
  const auto types = io.at("token_type_ids");
  const auto expected = io.at("last_hidden_state");
  for (const char* name : {"safetensors", "bin", "prefixed", "gamma_beta"}) {
    SCOPED_TRACE(name);
    const auto bert = read_huggingface_bert(root / name);
    EXPECT_EQ(bert.options.hidden(), 32);
    EXPECT_EQ(bert.options.layers(), 2);
    EXPECT_EQ(bert.options.heads(), 4);
    EXPECT_EQ(bert.options.intermediate(), 64);
    EXPECT_EQ(bert.options.max_positions(), 24);
    EXPECT_EQ(bert.vocab_size, 120);
    EXPECT_EQ(bert.vocab.filename(), "vocab.txt");
    TransformerEncoder encoder(bert.options, ModalitySpec("text", {ids.size(1)}, bert.vocab_size));
    const auto report = load_weights(*encoder, read_weights(bert.weights), bert_mapping());
    EXPECT_EQ(report.loaded.size(), encoder->named_parameters().size());
    encoder->eval();
    torch::NoGradGuard no_grad;
    const auto hidden = encoder->forward_sequence(ids, mask, types);
    // Real tokens are compared; padded positions are defined by neither side.
    const double error = ((hidden - expected).abs() * mask.unsqueeze(-1)).max().item<double>();
    EXPECT_LT(error, 1e-5) << "max abs difference " << error;
    std::printf("%s: max abs difference from transformers' BertModel %.3g\n", name, error);
    // Without the token types the sentence pair's second half differs: the types are really used.
    const auto untyped = encoder->forward_sequence(ids, mask);
    EXPECT_GT(((untyped - expected).abs() * mask.unsqueeze(-1)).max().item<double>(), 1e-3);
  }
  // The other way: finfuse writes the model as a folder (write_huggingface_bert, as finfuse pretrain does), which it
  // reads back from configuration to the same states and tests/parity/bert_hf_written_check.py loads with
  // transformers' BertModel (ctest parity.huggingface.written).
  const auto bert = read_huggingface_bert(root / "safetensors");
  const ModalitySpec spec("text", {ids.size(1)}, bert.vocab_size);
  const auto source = std::dynamic_pointer_cast<TransformerEncoderImpl>(make_encoder(
      Config(Json{{"type", "transformer"}, {"pretrained", {{"path", (root / "safetensors").string()}, {"format", "huggingface"}}}}),
      spec));
  ASSERT_TRUE(source);
  std::vector<std::string> vocabulary;
  std::ifstream vocab(bert.vocab);
  for (std::string line; std::getline(vocab, line);) {
    vocabulary.push_back(line);
  }
  write_huggingface_bert(root / "written", *source, vocabulary, bert.lowercase);
  const auto written = std::dynamic_pointer_cast<TransformerEncoderImpl>(make_encoder(
      Config(Json{{"type", "transformer"}, {"pretrained", {{"path", (root / "written").string()}, {"format", "huggingface"}}}}),
      spec));
  written->eval();
  torch::NoGradGuard no_grad;
  const double error =
      ((written->forward_sequence(ids, mask, types) - expected).abs() * mask.unsqueeze(-1)).max().item<double>();
  EXPECT_LT(error, 1e-5) << "max abs difference " << error;
}

TEST(HuggingFaceBert, FoldersThatAreNotBertAreRefusedByKey) {
  const auto dir = std::filesystem::temp_directory_path() / "finfuse_hf_config_errors";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto write_config = [&](const std::string& text) { std::ofstream(dir / "config.json") << text; };
  const auto error_of = [&]() -> std::string {
    try {
      read_huggingface_bert(dir);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(std::string(error_of()).find("config.json"), std::string::npos);
  write_config(R"({"model_type": "roberta", "vocab_size": 10})");
  EXPECT_NE(error_of().find("/model_type: the BERT-style encoder reads BERT models, got 'roberta'"), std::string::npos)
      << error_of();
  write_config(R"({"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                   "intermediate_size": 16, "max_position_embeddings": 8, "position_embedding_type": "relative_key"})");
  EXPECT_NE(error_of().find("/position_embedding_type"), std::string::npos) << error_of();
  write_config(R"({"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 3,
                   "intermediate_size": 16, "max_position_embeddings": 8})");
  EXPECT_NE(error_of().find("/num_attention_heads: must divide hidden_size (8), got 3"), std::string::npos)
      << error_of();
  write_config(R"({"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                   "intermediate_size": 16, "max_position_embeddings": 8})");
  EXPECT_NE(error_of().find("neither model.safetensors nor pytorch_model.bin"), std::string::npos) << error_of();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace finfuse::encoders
