#include "finfuse/encoders/pretrained.h"

#include "finfuse/core/check.h"
#include "finfuse/core/config.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/shape.h"
#include "finfuse/data/csv.h"
#include "finfuse/formats/safetensors.h"
#include "finfuse/formats/torch_save.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace finfuse::encoders {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

namespace {

// The tensors of a state dict: every entry maps a name to a tensor.
std::optional<TensorMap> as_state_dict(const c10::IValue& value) {
  if (!value.isGenericDict()) {
    return std::nullopt;
  }
  TensorMap out;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) {
      return std::nullopt;
    }
    out.emplace(item.key().toStringRef(), item.value().toTensor());
  }
  return out;
}

std::string describe(const c10::IValue& value) {
  if (value.isGenericDict()) {
    return fmt::format("a dict of {} entries", value.toGenericDict().size());
  }
  return value.tagKind();
}

}  // namespace

TensorMap read_weights(const std::filesystem::path& path) {
  if (path.extension() == ".safetensors") {
    return formats::read_safetensors(path);
  }
  const c10::IValue value = formats::read_torch_save(path);
  if (auto tensors = as_state_dict(value)) {
    return *std::move(tensors);
  }
  if (!value.isGenericDict()) {
    throw DataError(path.string(), 0, "", fmt::format("expected a state dict (names to tensors), got {}", value.tagKind()));
  }
  // A training checkpoint ({"model": state_dict, "optimizer": ..., "epoch": ...}): take the model's state dict when
  // one of the usual keys holds it.
  const auto dict = value.toGenericDict();
  for (const char* key : {"state_dict", "model_state_dict", "model"}) {
    const auto it = dict.find(c10::IValue(std::string(key)));
    if (it != dict.end()) {
      if (auto tensors = as_state_dict(it->value())) {
        logger()->info("{}: reading the state dict under '{}'", path.string(), key);
        return *std::move(tensors);
      }
    }
  }
  std::vector<std::string> entries;
  for (const auto& item : dict) {
    const std::string name = item.key().isString() ? "'" + item.key().toStringRef() + "'" : item.key().tagKind();
    if (!item.value().isTensor()) {
      entries.push_back(fmt::format("{} is {}", name, describe(item.value())));
    }
    if (entries.size() == 8) {
      entries.emplace_back("...");
      break;
    }
  }
  throw DataError(path.string(), 0, "",
                  fmt::format("expected a state dict (names to tensors), or a checkpoint holding one under "
                              "'state_dict', 'model_state_dict' or 'model'; but {}",
                              fmt::join(entries, ", ")));
}

WeightMapping bert_mapping() {
  return WeightMapping{"bert.",
                       {"pooler.", "cls.", "embeddings.position_ids", "embeddings.token_type_ids", "bert.pooler.",
                        "bert.embeddings.position_ids", "bert.embeddings.token_type_ids", "classifier.", "qa_outputs."},
                       {{"LayerNorm.gamma", "LayerNorm.weight"}, {"LayerNorm.beta", "LayerNorm.bias"}}};
}

HuggingFaceBert read_huggingface_bert(const std::filesystem::path& folder) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    throw IoError(folder.string(), "no such folder (a Hugging Face model: config.json, vocab.txt, model.safetensors "
                                   "or pytorch_model.bin)");
  }
  const auto config_file = folder / "config.json";
  if (!std::filesystem::exists(config_file, ec)) {
    throw IoError(config_file.string(), "no such file (a Hugging Face model folder has its config.json)");
  }
  const Config config = Config::load(config_file);
  const auto model_type = config.get<std::string>("model_type", std::string("bert"));
  if (model_type != "bert") {
    config.fail_at("model_type", fmt::format("the BERT-style encoder reads BERT models, got '{}'", model_type));
  }
  const auto position_type = config.get<std::string>("position_embedding_type", std::string("absolute"));
  if (position_type != "absolute") {
    config.fail_at("position_embedding_type",
                   fmt::format("the BERT-style encoder has absolute position embeddings, got '{}'", position_type));
  }
  const auto activation = config.get<std::string>("hidden_act", std::string("gelu"));
  if (activation != "gelu") {
    config.fail_at("hidden_act", fmt::format("the BERT-style encoder's feed-forward uses GELU (erf), got '{}'", activation));
  }
  HuggingFaceBert bert;
  bert.vocab_size = config.get<std::int64_t>("vocab_size", Range::positive());
  bert.options.hidden(config.get<std::int64_t>("hidden_size", Range::positive()))
      .layers(config.get<std::int64_t>("num_hidden_layers", Range::positive()))
      .heads(config.get<std::int64_t>("num_attention_heads", Range::positive()))
      .intermediate(config.get<std::int64_t>("intermediate_size", Range::positive()))
      .max_positions(config.get<std::int64_t>("max_position_embeddings", Range::positive()))
      .type_vocab(config.get<std::int64_t>("type_vocab_size", std::int64_t{2}, Range::positive()))
      .layer_norm_eps(config.get<double>("layer_norm_eps", 1e-12, Range::positive()))
      .dropout(config.get<double>("hidden_dropout_prob", 0.1, Range::half_open(0, 1)));
  if (bert.options.hidden() % bert.options.heads() != 0) {
    config.fail_at("num_attention_heads", fmt::format("must divide hidden_size ({}), got {}", bert.options.hidden(),
                                                      bert.options.heads()));
  }
  for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
    if (std::filesystem::exists(folder / name, ec)) {
      bert.weights = folder / name;
      break;
    }
  }
  if (bert.weights.empty()) {
    throw IoError(folder.string(), "has neither model.safetensors nor pytorch_model.bin (sharded checkpoints are not "
                                   "read; save the model with save_pretrained(max_shard_size=\"10GB\"))");
  }
  if (std::filesystem::exists(folder / "vocab.txt", ec)) {
    bert.vocab = folder / "vocab.txt";
  }
  const auto tokenizer_file = folder / "tokenizer_config.json";
  if (std::filesystem::exists(tokenizer_file, ec)) {
    const Config tokenizer = Config::load(tokenizer_file);
    bert.lowercase = tokenizer.get<bool>("do_lower_case", true);
    if (tokenizer.contains("strip_accents") && !tokenizer.child("strip_accents").is_null()) {
      bert.strip_accents = tokenizer.get<bool>("strip_accents");
    }
  }
  return bert;
}

WeightMapping torchvision_resnet_mapping() { return WeightMapping{"", {"fc."}, {}}; }

WeightLoadReport load_weights(torch::nn::Module& module, const TensorMap& weights, const WeightMapping& mapping,
                              bool strict) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : module.named_parameters()) {
    targets.emplace(p.key(), p.value());
  }
  for (const auto& b : module.named_buffers()) {
    targets.emplace(b.key(), b.value());
  }
  WeightLoadReport report;
  std::map<std::string, torch::Tensor> matched;
  std::set<std::string> misfit;
  for (const auto& [original, tensor] : weights) {
    const std::string& key = original;  // a structured binding cannot be captured before C++20
    if (std::any_of(mapping.ignore_prefixes.begin(), mapping.ignore_prefixes.end(),
                    [&key](const std::string& prefix) { return starts_with(key, prefix); })) {
      continue;
    }
    std::string name = !mapping.strip_prefix.empty() && starts_with(original, mapping.strip_prefix)
                           ? original.substr(mapping.strip_prefix.size())
                           : original;
    for (const auto& [from, to] : mapping.rename_suffixes) {
      if (name.size() >= from.size() && name.compare(name.size() - from.size(), from.size(), from) == 0) {
        name = name.substr(0, name.size() - from.size()) + to;
        break;
      }
    }
    const auto it = targets.find(name);
    if (it == targets.end()) {
      report.unexpected.push_back(original);
    } else if (it->second.sizes() != tensor.sizes()) {
      misfit.insert(name);
      report.mismatched.push_back(fmt::format("{}: checkpoint {} vs module {}", original, shape_string(tensor.sizes()),
                                              shape_string(it->second.sizes())));
    } else {
      matched.emplace(name, tensor);
    }
  }
  for (const auto& [name, target] : targets) {
    if (matched.count(name) == 0 && misfit.count(name) == 0) {
      report.missing.push_back(name);
    }
  }
  if (strict && (!report.missing.empty() || !report.unexpected.empty() || !report.mismatched.empty())) {
    const auto list = [](const std::vector<std::string>& names) {
      return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
    };
    throw Error(fmt::format("the weights do not fit the module: missing {}; unexpected {}; mis-shaped {}",
                            list(report.missing), list(report.unexpected), list(report.mismatched)));
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : matched) {
    auto& target = targets.at(name);
    target.copy_(tensor.to(target.device(), target.scalar_type()));
    report.loaded.push_back(name);
  }
  return report;
}

WordVectorReport load_word_vectors(const std::filesystem::path& path, const std::vector<std::string>& vocabulary,
                                   torch::Tensor embedding) {
  FINFUSE_CHECK(embedding.dim() == 2 && embedding.size(0) == static_cast<std::int64_t>(vocabulary.size()),
                "load_word_vectors: the embedding is ", shape_string(embedding.sizes()), " for a vocabulary of ",
                vocabulary.size());
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string(), std::filesystem::exists(path) ? "cannot open for reading" : "no such file");
  }
  std::map<std::string, std::int64_t> ids;
  for (std::size_t i = 0; i < vocabulary.size(); ++i) {
    ids.emplace(vocabulary[i], static_cast<std::int64_t>(i));
  }
  WordVectorReport report;
  report.vocabulary = static_cast<std::int64_t>(vocabulary.size());
  report.dimension = embedding.size(1);
  const auto dim = static_cast<std::size_t>(embedding.size(1));
  std::vector<float> values(dim);
  std::set<std::int64_t> filled;
  std::string line;
  std::int64_t number = 0;
  torch::NoGradGuard no_grad;
  const auto cpu = embedding.to(torch::kCPU, torch::kFloat32).contiguous();
  float* rows = cpu.data_ptr<float>();
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::istringstream fields(line);
    std::string word;
    if (!(fields >> word)) {
      continue;
    }
    std::vector<std::string> parts;
    for (std::string part; fields >> part;) {
      parts.push_back(part);
    }
    if (number == 1 && parts.size() == 1 && data::parse_integer(word) && data::parse_integer(parts[0])) {
      continue;  // word2vec header: "<count> <dimension>"
    }
    if (parts.size() != dim) {
      throw DataError(path.string(), number, word,
                            fmt::format("expected {} values (the embedding size), got {}", dim, parts.size()));
    }
    const auto it = ids.find(word);
    if (it == ids.end() || filled.count(it->second) != 0) {
      continue;
    }
    for (std::size_t k = 0; k < dim; ++k) {
      const auto v = data::parse_number(parts[k]);
      if (!v || !std::isfinite(*v)) {
        throw DataError(path.string(), number, word, fmt::format("value {} is not a finite number: '{}'", k + 1, parts[k]));
      }
      values[k] = static_cast<float>(*v);
    }
    std::copy(values.begin(), values.end(), rows + it->second * static_cast<std::int64_t>(dim));
    filled.insert(it->second);
  }
  embedding.copy_(cpu.to(embedding.device(), embedding.scalar_type()));
  report.found = static_cast<std::int64_t>(filled.size());
  logger()->info("{}: word vectors for {} of {} tokens", path.string(), report.found, report.vocabulary);
  return report;
}

}  // namespace finfuse::encoders
