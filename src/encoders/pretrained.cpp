#include "finfuse/encoders/pretrained.h"

#include "finfuse/core/check.h"
#include "finfuse/core/config.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/shape.h"
#include "finfuse/data/csv.h"
#include "finfuse/encoders/cnn_encoder.h"
#include "finfuse/encoders/rnn_encoder.h"
#include "finfuse/formats/safetensors.h"
#include "finfuse/formats/torch_save.h"

#include <fmt/format.h>

#include <algorithm>
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
    bert.normalization = tokenizer.get_choice("finfuse_normalization", "bert", {"bert", "ascii"});
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

TransformerEncoderOptions huggingface_encoder_options(const Config& config, const HuggingFaceBert& bert,
                                                      const std::filesystem::path& folder) {
  config.contains("pretrained");  // read by the caller
  auto base = bert.options;
  base.vocab_size(bert.vocab_size);
  const auto options = TransformerEncoderOptions::from_config(config, base);
  struct Key {
    const char* ours;
    const char* theirs;
    double configured;
    double model;
  };
  const std::vector<Key> keys = {
      {"hidden", "hidden_size", double(options.hidden()), double(bert.options.hidden())},
      {"layers", "num_hidden_layers", double(options.layers()), double(bert.options.layers())},
      {"heads", "num_attention_heads", double(options.heads()), double(bert.options.heads())},
      {"intermediate", "intermediate_size", double(options.intermediate()), double(bert.options.intermediate())},
      {"max_positions", "max_position_embeddings", double(options.max_positions()),
       double(bert.options.max_positions())},
      {"type_vocab", "type_vocab_size", double(options.type_vocab()), double(bert.options.type_vocab())},
      {"layer_norm_eps", "layer_norm_eps", options.layer_norm_eps(), bert.options.layer_norm_eps()},
      {"vocab_size", "vocab_size", double(options.vocab_size()), double(bert.vocab_size)}};
  for (const auto& key : keys) {
    if (config.contains(key.ours) && std::abs(key.configured - key.model) > 1e-9 * std::abs(key.model)) {
      config.fail_at(key.ours, fmt::format("configured {:g}, but the Hugging Face model in {} has {:g} (config.json's "
                                           "{}); leave the key out to take the model's",
                                           key.configured, folder.string(), key.model, key.theirs));
    }
  }
  return options;
}

namespace {

std::string encoder_type(const Encoder& encoder) { return encoder.options_json().value("type", std::string("?")); }

// Strict loading that lets the layers an encoder adds on top of the pretrained part (`fresh` prefixes) start afresh.
WeightLoadReport load_checked(torch::nn::Module& module, const TensorMap& weights, const WeightMapping& mapping,
                              bool strict, const std::vector<std::string>& fresh, const std::filesystem::path& file) {
  auto report = load_weights(module, weights, mapping, /*strict=*/false);
  std::vector<std::string> missing;
  for (const auto& name : report.missing) {
    if (std::none_of(fresh.begin(), fresh.end(), [&name](const std::string& p) { return starts_with(name, p); })) {
      missing.push_back(name);
    }
  }
  const auto list = [](const std::vector<std::string>& names) {
    return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
  };
  if (strict && (!missing.empty() || !report.unexpected.empty() || !report.mismatched.empty())) {
    throw DataError(file.string(), 0, "",
                    fmt::format("the weights do not fit the encoder (\"strict\": false loads what fits): missing {}; "
                                "unexpected {}; mis-shaped {}",
                                list(missing), list(report.unexpected), list(report.mismatched)));
  }
  if (!report.missing.empty() || !report.unexpected.empty() || !report.mismatched.empty()) {
    logger()->info("{}: {} tensors loaded; starting afresh: {}; not used: {}", file.string(), report.loaded.size(),
                   list(report.missing), list(report.unexpected));
  }
  return report;
}

// torchvision's ResNet depth from its state dict: layer3 holds 2 basic blocks in ResNet-18 and 6 in ResNet-34.
std::int64_t resnet_depth(const TensorMap& weights) {
  std::int64_t blocks = 0;
  for (const auto& [name, tensor] : weights) {
    if (starts_with(name, "layer3.")) {
      const auto dot = name.find('.', 7);
      if (dot != std::string::npos) {
        if (const auto index = data::parse_integer(name.substr(7, dot - 7))) {
          blocks = std::max<std::int64_t>(blocks, *index + 1);
        }
      }
    }
  }
  return blocks == 2 ? 18 : blocks == 6 ? 34 : 0;
}

}  // namespace

WeightLoadReport load_pretrained(Encoder& encoder, const PretrainedOptions& options, const Config& at) {
  const auto& modality = encoder.spec().name;
  const auto& format = options.format();
  WeightLoadReport report;
  if (format == "huggingface") {
    auto* transformer = dynamic_cast<TransformerEncoderImpl*>(&encoder);
    if (transformer == nullptr || !transformer->reads_tokens()) {
      at.fail_at("format", fmt::format("\"huggingface\" loads a BERT model into a transformer encoder over token ids; "
                                       "the encoder of modality '{}' is a{} {} encoder",
                                       modality, transformer != nullptr ? " float-sequence" : "",
                                       encoder_type(encoder)));
    }
    const auto bert = read_huggingface_bert(options.path());
    report = load_checked(*transformer, read_weights(bert.weights), bert_mapping(), options.strict(), {}, bert.weights);
  } else if (format == "torchvision") {
    auto* resnet = dynamic_cast<ResNetEncoderImpl*>(&encoder);
    if (resnet == nullptr) {
      at.fail_at("format", fmt::format("\"torchvision\" loads a ResNet state dict into a resnet encoder; the encoder "
                                       "of modality '{}' is a {} encoder",
                                       modality, encoder_type(encoder)));
    }
    auto weights = read_weights(options.path());
    const auto depth = resnet_depth(weights);
    if (depth != 0 && depth != resnet->options().depth()) {
      at.fail_at("path", fmt::format("{} holds a ResNet-{}, but the encoder of modality '{}' is configured with depth {}",
                                     options.path().string(), depth, modality, resnet->options().depth()));
    }
    const auto channels = encoder.spec().shape.at(0);
    const auto conv1 = weights.find("conv1.weight");
    if (conv1 != weights.end() && conv1->second.dim() == 4 && conv1->second.size(1) == 3 && channels == 1) {
      // A grey image: one input channel whose filters are the sum of the RGB ones (the response to a grey input).
      conv1->second = conv1->second.sum(1, /*keepdim=*/true);
    }
    report = load_checked(*resnet, weights, torchvision_resnet_mapping(), options.strict(), {"projection."},
                          options.path());
  } else if (format == "word_vectors") {
    const auto& vocabulary = encoder.spec().vocabulary;
    torch::Tensor embedding;
    if (auto* rnn = dynamic_cast<RnnEncoderImpl*>(&encoder); rnn != nullptr && rnn->embedding()) {
      embedding = rnn->embedding()->weight;
    } else if (auto* transformer = dynamic_cast<TransformerEncoderImpl*>(&encoder);
               transformer != nullptr && transformer->reads_tokens()) {
      embedding = transformer->word_embeddings()->weight;
    } else {
      at.fail_at("format", fmt::format("\"word_vectors\" fill the token embedding of an rnn or transformer encoder "
                                       "over token ids; the encoder of modality '{}' has none",
                                       modality));
    }
    if (!vocabulary) {
      at.fail_at("format", fmt::format("\"word_vectors\" need the tokens of modality '{}', which has no fitted "
                                       "tokenizer",
                                       modality));
    }
    std::vector<std::string> tokens = *vocabulary;
    tokens.resize(static_cast<std::size_t>(embedding.size(0)));  // spare rows of a larger embedding match no word
    const auto words = load_word_vectors(options.path(), tokens, embedding);
    if (options.strict() && words.found == 0) {
      throw DataError(options.path().string(), 0, "",
                      fmt::format("none of the {} tokens of modality '{}' has a vector (\"strict\": false accepts that)",
                                  vocabulary->size(), modality));
    }
    report.loaded.push_back(fmt::format("{} word vectors", words.found));
  } else {
    WeightMapping mapping;
    auto weights = read_weights(options.path());
    mapping.strip_prefix = options.prefix();
    if (mapping.strip_prefix.empty()) {
      const std::string ours = "encoders." + modality + ".";
      if (!weights.empty() && std::all_of(weights.begin(), weights.end(),
                                          [&ours](const auto& w) { return starts_with(w.first, ours); })) {
        mapping.strip_prefix = ours;
      }
    }
    report = load_checked(encoder, weights, mapping, options.strict(), {}, options.path());
  }
  logger()->info("encoder of modality '{}': {} tensors from {} ({})", modality, report.loaded.size(),
                 options.path().string(), format);
  return report;
}

void write_huggingface_bert(const std::filesystem::path& folder, TransformerEncoderImpl& encoder,
                            const std::vector<std::string>& vocabulary, bool lowercase, const Json& extra_tokenizer) {
  FINFUSE_CHECK(encoder.reads_tokens(), "write_huggingface_bert: the encoder of modality '", encoder.spec().name,
                "' reads float sequences, not token ids");
  const auto& o = encoder.options();
  const auto rows = encoder.word_embeddings()->weight.size(0);
  FINFUSE_CHECK(static_cast<std::int64_t>(vocabulary.size()) == rows, "write_huggingface_bert: a vocabulary of ",
                vocabulary.size(), " tokens for an embedding of ", rows, " rows");
  std::filesystem::create_directories(folder);
  const Json config = {{"architectures", {"BertModel"}},
                       {"model_type", "bert"},
                       {"vocab_size", rows},
                       {"hidden_size", o.hidden()},
                       {"num_hidden_layers", o.layers()},
                       {"num_attention_heads", o.heads()},
                       {"intermediate_size", o.intermediate()},
                       {"hidden_act", "gelu"},
                       {"hidden_dropout_prob", o.dropout()},
                       {"attention_probs_dropout_prob", o.dropout()},
                       {"max_position_embeddings", o.max_positions()},
                       {"type_vocab_size", o.type_vocab()},
                       {"initializer_range", 0.02},
                       {"layer_norm_eps", o.layer_norm_eps()},
                       {"position_embedding_type", "absolute"},
                       {"pad_token_id", 0}};
  write_file_atomically(folder / "config.json", config.dump(2) + "\n");
  std::string vocab;
  for (const auto& token : vocabulary) {
    vocab += token;
    vocab += '\n';
  }
  write_file_atomically(folder / "vocab.txt", vocab);
  Json tokenizer = {{"tokenizer_class", "BertTokenizer"},
                    {"do_lower_case", lowercase},
                    {"model_max_length", o.max_positions()}};
  if (extra_tokenizer.is_object()) {
    tokenizer.update(extra_tokenizer);
  }
  write_file_atomically(folder / "tokenizer_config.json", tokenizer.dump(2) + "\n");
  formats::TensorMap tensors;
  for (const auto& p : encoder.named_parameters()) {
    tensors.emplace(p.key(), p.value().detach());
  }
  formats::write_safetensors(folder / "model.safetensors", tensors);
}

}  // namespace finfuse::encoders
