// Weights from the Python world: state dicts saved by PyTorch (torch.save(model.state_dict())) and safetensors files,
// copied into finfuse's encoders by parameter name with name maps for BERT-family checkpoints and torchvision ResNets;
// and word vectors in word2vec/GloVe text format for token embeddings.
#pragma once

#include "finfuse/encoders/transformer_encoder.h"
#include "finfuse/formats/safetensors.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::encoders {

using formats::TensorMap;

/// Reads a PyTorch state dict (the zip format of torch.save) or a .safetensors file (by extension). IoError for a
/// missing file; DataError naming the file (and tensor) for anything malformed.
TensorMap read_weights(const std::filesystem::path& path);

/// How checkpoint names become finfuse names.
struct WeightMapping {
  /// Removed from the front of every checkpoint name that has it ("bert.").
  std::string strip_prefix;
  /// Checkpoint tensors starting with one of these are not part of the encoder and are skipped.
  std::vector<std::string> ignore_prefixes;
  /// Name endings replaced once the prefix is stripped (old BERT checkpoints' "LayerNorm.gamma" -> "LayerNorm.weight").
  std::vector<std::pair<std::string, std::string>> rename_suffixes;
};

/// BERT-family checkpoints (Hugging Face names): strip "bert.", skip the pooler, the pre-training and task heads and
/// the position- and token-type-id buffers; the LayerNorm "gamma"/"beta" of old checkpoints are its weight and bias.
WeightMapping bert_mapping();

/// A Hugging Face BERT model folder (as `save_pretrained` writes it, with the tokenizer's vocab.txt).
struct HuggingFaceBert {
  /// The architecture from config.json.
  TransformerEncoderOptions options;
  std::int64_t vocab_size = 0;
  /// model.safetensors, else pytorch_model.bin.
  std::filesystem::path weights;
  /// vocab.txt (empty when the folder has none).
  std::filesystem::path vocab;
  /// Whether the tokenizer lower-cases (tokenizer_config.json's do_lower_case; true when it does not say).
  bool lowercase = true;
  /// tokenizer_config.json's strip_accents (null: as lowercase).
  std::optional<bool> strip_accents;
};

/// Reads config.json (model_type "bert" or absent, absolute positions, GELU) and finds the weights and vocabulary of a
/// Hugging Face folder. IoError for a missing folder or file; ConfigError naming config.json's key for an architecture
/// the BERT-style encoder does not implement.
HuggingFaceBert read_huggingface_bert(const std::filesystem::path& folder);
/// torchvision ResNets: skip the classifier "fc.".
WeightMapping torchvision_resnet_mapping();

struct WeightLoadReport {
  std::vector<std::string> loaded;
  /// In the module, not in the checkpoint (mis-shaped ones are listed under `mismatched` only).
  std::vector<std::string> missing;
  /// In the checkpoint (after mapping), not in the module.
  std::vector<std::string> unexpected;
  /// "name: checkpoint [..] vs module [..]".
  std::vector<std::string> mismatched;
};

/// Copies checkpoint tensors into `module`'s parameters and buffers by name (converted to the module's dtype and
/// device). With `strict`, any missing, unexpected or mis-shaped tensor is an Error listing them by name, and the
/// module is left unchanged.
WeightLoadReport load_weights(torch::nn::Module& module, const TensorMap& weights, const WeightMapping& mapping = {},
                              bool strict = true);

struct WordVectorReport {
  std::int64_t vocabulary = 0;
  std::int64_t found = 0;
  std::int64_t dimension = 0;
};

/// Fills the rows of `embedding` ([V, D]) for the tokens of `vocabulary` (id -> token) found in a word2vec or GloVe
/// text file ("word v1 ... vD" per line; a word2vec "count dim" header line is recognised). Other rows keep their
/// values. DataError naming the file and line for a wrong dimension or a non-number.
WordVectorReport load_word_vectors(const std::filesystem::path& path, const std::vector<std::string>& vocabulary,
                                   torch::Tensor embedding);

}  // namespace finfuse::encoders
