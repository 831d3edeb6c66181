#include "finfuse/training/run_config.h"

#include "finfuse/core/error.h"
#include "finfuse/encoders/pretrained.h"

#include <fmt/format.h>

#include <algorithm>

namespace finfuse::training {
namespace {

// The encoders' "pretrained" sources: paths anchored at the configuration's folder, and a Hugging Face model's
// tokenizer (vocab.txt, tokenizer_config.json) made the text modality's, where the configuration does not say
// otherwise; a tokenizer key that contradicts the model is an error naming both.
Config resolve_pretrained(const Config& root, const std::filesystem::path& base) {
  const Json& document = root.json();
  const auto* encoders = document.is_object() && document.contains("model") && document["model"].is_object() &&
                                 document["model"].contains("encoders") && document["model"]["encoders"].is_object()
                             ? &document["model"]["encoders"]
                             : nullptr;
  if (encoders == nullptr) {
    return root;
  }
  Json out = document;
  bool changed = false;
  for (const auto& [modality, encoder] : encoders->items()) {
    if (!encoder.is_object() || !encoder.contains("pretrained") || !encoder["pretrained"].is_object()) {
      continue;
    }
    const std::string pointer = "/model/encoders/" + modality + "/pretrained";
    const auto options = encoders::PretrainedOptions::from_config(
        root.child("model").child("encoders").child(modality).child("pretrained"));
    auto path = options.path();
    if (path.is_relative()) {
      path = base / path;
    }
    out["model"]["encoders"][modality]["pretrained"]["path"] = path.string();
    changed = true;
    if (options.format() != "huggingface" || modality != "text") {
      continue;
    }
    const auto bert = encoders::read_huggingface_bert(path);
    if (bert.vocab.empty()) {
      throw ConfigError(pointer + "/path", fmt::format("{} has no vocab.txt: the text modality needs the model's "
                                                       "tokenizer vocabulary",
                                                       path.string()),
                        root.source());
    }
    Json& tokenizer = out["data"]["dataset"]["tokenizer"];
    if (tokenizer.is_null()) {
      tokenizer = Json::object();
    }
    const auto agree = [&](const std::string& key, const Json& model) {
      if (tokenizer.contains(key) && !tokenizer[key].is_null() && tokenizer[key] != model) {
        throw ConfigError("/data/dataset/tokenizer/" + key,
                          fmt::format("configured {}, but the Hugging Face model in {} (at {}) needs {}; leave the "
                                      "key out to take the model's",
                                      tokenizer[key].dump(), path.string(), pointer, model.dump()),
                          root.source());
      }
      tokenizer[key] = model;
    };
    agree("kind", "wordpiece");
    const auto vocab = std::filesystem::weakly_canonical(bert.vocab);
    if (tokenizer.contains("vocab_file") && tokenizer["vocab_file"].is_string()) {
      // The same file, however written, agrees.
      const auto given = std::filesystem::path(tokenizer["vocab_file"].get<std::string>());
      std::error_code ec;
      if (std::filesystem::weakly_canonical(given.is_relative() ? base / given : given, ec) == vocab) {
        tokenizer.erase("vocab_file");
      }
    }
    agree("vocab_file", vocab.string());
    agree("lowercase", bert.lowercase);
    agree("normalization", bert.normalization);
    if (bert.strip_accents) {
      agree("strip_accents", *bert.strip_accents);
    }
    // Texts no longer than the model's positions: the default length where that fits, else the model's.
    const auto positions = bert.options.max_positions();
    if (!tokenizer.contains("max_length") || tokenizer["max_length"].is_null()) {
      tokenizer["max_length"] = std::min<std::int64_t>(data::TokenizerOptions{}.max_length, positions);
    } else if (tokenizer["max_length"].is_number_integer() && tokenizer["max_length"].get<std::int64_t>() > positions) {
      throw ConfigError("/data/dataset/tokenizer/max_length",
                        fmt::format("configured {}, but the Hugging Face model in {} (at {}) has {} positions "
                                    "(config.json's max_position_embeddings)",
                                    tokenizer["max_length"].get<std::int64_t>(), path.string(), pointer, positions),
                        root.source());
    }
    if (!tokenizer.contains("add_special_tokens")) {
      tokenizer["add_special_tokens"] = true;  // [CLS] ... [SEP], as the model was trained
    }
  }
  return changed ? Config(std::move(out), root.source()) : root;
}

}  // namespace

RunConfig RunConfig::load(const std::filesystem::path& path) {
  return from_config(Config::load(path), std::filesystem::absolute(path).parent_path());
}

RunConfig RunConfig::from_config(Config root, const std::filesystem::path& base) {
  RunConfig c;
  c.base = std::filesystem::absolute(base);
  c.root = resolve_pretrained(root, c.base);
  c.runtime = RuntimeOptions::from_config(c.root.section("runtime"));
  c.data = data::DataConfig::from_config(c.root.child("data"), c.base);
  c.model = c.root.child("model");
  c.training = TrainerOptions::from_config(c.root.section("training"));
  if (c.training.warm_start() && c.training.warm_start()->path().is_relative()) {
    // Relative to the configuration's folder, as the data paths are.
    auto warm = *c.training.warm_start();
    warm.path(c.base / warm.path());
    c.training.warm_start(warm);
  }
  c.distributed = DistributedOptions::from_config(c.root.section("distributed"));
  c.experiment = ExperimentConfig::from_config(c.root.section("experiment"));
  c.tracking = TrackingConfig::from_config(c.root.section("tracking"));
  if (!c.tracking.tensorboard.empty()) {
    c.training.tensorboard(c.tracking.tensorboard);
  }
  c.seeds = c.experiment.seeds.empty() ? std::vector<std::uint64_t>{c.runtime.seed()} : c.experiment.seeds;
  c.root.reject_unknown_keys();
  return c;
}

std::vector<std::filesystem::path> input_files(const data::DataConfig& data) { return data.input_files(); }

}  // namespace finfuse::training
