// Weights from the Python world: state dicts saved by PyTorch (torch.save(model.state_dict())) and safetensors files,
// copied into finfuse's encoders by parameter name with name maps for BERT-family checkpoints and torchvision ResNets;
// and word vectors in word2vec/GloVe text format for token embeddings.
//
// From configuration, an encoder starts from pretrained weights with its "pretrained" key:
//
//   "text":  {"type": "transformer", "pooling": "cls", "pretrained": {"path": "models/finbert", "format": "huggingface"}}
//   "image": {"type": "resnet", "depth": 18, "pretrained": {"path": "resnet18.pth", "format": "torchvision"}}
//   "text":  {"type": "rnn", "embedding_dim": 100, "pretrained": {"path": "glove.6B.100d.txt", "format": "word_vectors"}}
//
// A Hugging Face folder also gives the transformer its architecture (config.json; a configured key that disagrees is
// an error naming both values) and, in a run configuration, the text tokenizer (vocab.txt, tokenizer_config.json).
// The weights are read when the encoder is built; the encoder's options (what a bundle stores) no longer name the
// source, so a bundle rebuilds the architecture and takes the trained weights from its own file.
#pragma once

#include "finfuse/core/options.h"

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

/// Where an encoder's initial weights come from (its "pretrained" key).
struct PretrainedOptions {
#define FINFUSE_PRETRAINED_FIELDS(F)                                                                                \
  F(std::filesystem::path, path, {}, ::finfuse::FieldRule::required(),                                             \
    "the weights: a Hugging Face model folder, a torch.save or safetensors file, or a word-vector text file")      \
  F(std::string, format, "weights",                                                                                \
    ::finfuse::FieldRule::one_of({"huggingface", "torchvision", "weights", "word_vectors"}),                       \
    "\"huggingface\" (a BERT model folder, transformer encoder), \"torchvision\" (a ResNet state dict, resnet "     \
    "encoder), \"weights\" (a state dict with the encoder's own names, e.g. from finfuse pretrain), "               \
    "\"word_vectors\" (word2vec/GloVe text for the token embedding)")                                              \
  F(bool, strict, true, ::finfuse::FieldRule(),                                                                     \
    "every tensor of the encoder must come from the file and every tensor of the file must fit (false: the "       \
    "others keep their initial values and are logged)")                                                            \
  F(std::string, prefix, "", ::finfuse::FieldRule(),                                                                \
    "weights: removed from the front of the file's names (empty: \"encoders.<modality>.\" where the names have it)")
  FINFUSE_OPTIONS(PretrainedOptions, FINFUSE_PRETRAINED_FIELDS)
#undef FINFUSE_PRETRAINED_FIELDS
};

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
  /// tokenizer_config.json's finfuse_normalization (written by finfuse pretrain; "bert" when absent).
  std::string normalization = "bert";
};

/// Reads config.json (model_type "bert" or absent, absolute positions, GELU) and finds the weights and vocabulary of a
/// Hugging Face folder. IoError for a missing folder or file; ConfigError naming config.json's key for an architecture
/// the BERT-style encoder does not implement.
HuggingFaceBert read_huggingface_bert(const std::filesystem::path& folder);

/// A transformer encoder's options from `config` (its JSON options, with "pretrained") over the architecture of the
/// Hugging Face folder: keys the configuration leaves out come from config.json (dropout included); an architecture
/// key it gives must agree, else ConfigError at that key naming both values and the folder.
TransformerEncoderOptions huggingface_encoder_options(const Config& config, const HuggingFaceBert& bert,
                                                      const std::filesystem::path& folder);

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

/// Copies the weights `options` names into `encoder` (built already, with the source's architecture): a Hugging
/// Face folder into a transformer encoder, a torchvision state dict into a ResNet encoder (a 1-channel image sums the
/// RGB filters of conv1), word vectors into the token embedding of an rnn or transformer encoder (by the modality's
/// vocabulary), a state dict by the encoder's own names. ConfigError naming `at`'s "format" for a format the
/// encoder does not take; Error listing the tensors that do not fit (strict).
WeightLoadReport load_pretrained(Encoder& encoder, const PretrainedOptions& options, const Config& at);

/// Writes a BERT-style token encoder as a Hugging Face model folder (config.json with model_type "bert", vocab.txt,
/// tokenizer_config.json, model.safetensors), which transformers' BertModel and finfuse's "huggingface" format read.
/// `vocabulary` (id -> token) must hold as many tokens as the encoder's embedding; `extra_tokenizer` entries go into
/// tokenizer_config.json. Error for an encoder over float sequences.
void write_huggingface_bert(const std::filesystem::path& folder, TransformerEncoderImpl& encoder,
                            const std::vector<std::string>& vocabulary, bool lowercase, const Json& extra_tokenizer = {});

}  // namespace finfuse::encoders
