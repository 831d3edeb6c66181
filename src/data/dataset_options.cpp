// The dataset's options read from and written to JSON, and the fitted preprocessing a bundle stores.
#include "finfuse/data/dataset_options.h"
#include "finfuse/data/fitted_preprocessing.h"
#include "finfuse/data/modality.h"

#include "finfuse/core/check.h"
#include "finfuse/core/suggest.h"

#include <fmt/format.h>

#include <algorithm>

namespace finfuse::data {

GraphOptions GraphOptions::from_config(const Config& config) {
  GraphOptions o;
  o.kind = config.get_choice("kind", o.kind, {"none", "edges", "correlation"});
  o.lookback = config.get<std::int64_t>("lookback", o.lookback, Range::closed(2, 10000));
  o.threshold = config.get<double>("threshold", o.threshold, Range::closed(0, 1));
  config.reject_unknown_keys();
  return o;
}

Json GraphOptions::to_json() const { return Json{{"kind", kind}, {"lookback", lookback}, {"threshold", threshold}}; }

ImageOptions ImageOptions::from_config(const Config& config) {
  ImageOptions o;
  o.table = config.get<std::string>("table", o.table);
  o.column = config.get<std::string>("column", o.column);
  o.channels = config.get<std::int64_t>("channels", o.channels);
  if (o.channels != 1 && o.channels != 3) {
    config.fail_at("channels", fmt::format("must be 1 or 3, got {}", o.channels));
  }
  o.height = config.get<std::int64_t>("height", o.height, Range::closed(1, 4096));
  o.width = config.get<std::int64_t>("width", o.width, Range::closed(1, 4096));
  o.on_missing = config.get_choice("on_missing", o.on_missing, {"error", "absent"});
  config.reject_unknown_keys();
  return o;
}

Json ImageOptions::to_json() const {
  return Json{{"table", table},   {"column", column}, {"channels", channels},
              {"height", height}, {"width", width},   {"on_missing", on_missing}};
}

TextTableOptions TextTableOptions::from_config(const Config& config) {
  TextTableOptions o;
  o.table = config.get<std::string>("table", o.table);
  o.column = config.get<std::string>("column", o.column);
  if (o.table.empty() != o.column.empty()) {
    config.fail(fmt::format("needs both the table and its text column (got table \"{}\", column \"{}\")", o.table,
                            o.column));
  }
  config.reject_unknown_keys();
  return o;
}

Json TextTableOptions::to_json() const { return Json{{"table", table}, {"column", column}}; }

namespace {

// DatasetOptions' own keys, which a modality registered from outside the library cannot be named after.
const std::vector<std::string>& reserved_keys() {
  static const std::vector<std::string> keys = {
      "modalities",  "price",       "chart",         "image",        "graph",          "text_table",
      "tokenizer",   "text_layout", "max_texts",     "numeric",      "cross_section",  "forward_fill",
      "category_min_frequency"};
  return keys;
}

}  // namespace

DatasetOptions DatasetOptions::from_config(const Config& config) {
  DatasetOptions o;
  o.modalities = config.get<std::vector<std::string>>("modalities", o.modalities);
  const auto known = modality_registry().names();
  if (o.modalities.empty()) {
    config.fail_at("modalities", fmt::format("name at least one modality: {}", quoted_list(known)));
  }
  for (std::size_t i = 0; i < o.modalities.size(); ++i) {
    const auto& m = o.modalities[i];
    if (!modality_registry().contains(m)) {
      config.child("modalities")[i].fail(
          fmt::format("unknown modality '{}'{}; registered: {}", m, did_you_mean(m, known), quoted_list(known)));
    }
    if (std::count(o.modalities.begin(), o.modalities.end(), m) > 1) {
      config.child("modalities")[i].fail(fmt::format("modality '{}' is listed twice", m));
    }
    if (!is_builtin_modality(m)) {
      if (std::find(reserved_keys().begin(), reserved_keys().end(), m) != reserved_keys().end()) {
        config.child("modalities")[i].fail(fmt::format(
            "a registered modality cannot be named '{}': dataset.{} holds other options", m, m));
      }
      o.modality_options[m] = config.section(m);
    }
  }
  o.price = PriceWindowOptions::from_config(config.section("price"));
  o.chart = ChartOptions::from_config(config.section("chart"));
  o.image = ImageOptions::from_config(config.section("image"));
  o.graph = GraphOptions::from_config(config.section("graph"));
  if (std::find(o.modalities.begin(), o.modalities.end(), "image") != o.modalities.end() &&
      (o.image.table.empty() || o.image.column.empty())) {
    config.fail_at("image", "the 'image' modality needs the table and the column that name the image files");
  }
  o.text_table = TextTableOptions::from_config(config.section("text_table"));
  o.tokenizer = TokenizerOptions::from_config(config.section("tokenizer"));
  o.text_layout = config.get_choice("text_layout", o.text_layout, {"per_text", "concat"});
  o.max_texts = config.get<std::int64_t>("max_texts", o.max_texts, Range::closed(1, 10000));
  o.numeric = NumericPreprocessorOptions::from_config(config.section("numeric"));
  o.cross_section = config.get_choice("cross_section", o.cross_section, {"none", "zscore", "rank"});
  o.forward_fill = config.get<bool>("forward_fill", o.forward_fill);
  o.category_min_frequency = config.get<std::int64_t>("category_min_frequency", o.category_min_frequency, Range::positive());
  config.reject_unknown_keys();
  // A registered modality's factory reads and checks its own section, with errors at its JSON path.
  for (const auto& [name, section] : o.modality_options) {
    (void)modality_registry().create(name, o);
  }
  return o;
}

Json DatasetOptions::to_json() const {
  Json out{{"modalities", modalities},
              {"price", price.to_json()},
              {"chart", chart.to_json()},
              {"image", image.to_json()},
              {"graph", graph.to_json()},
              {"text_table", text_table.to_json()},
              {"tokenizer", tokenizer.to_json()},
              {"text_layout", text_layout},
              {"max_texts", max_texts},
              {"numeric", numeric.to_json()},
              {"cross_section", cross_section},
              {"forward_fill", forward_fill},
              {"category_min_frequency", category_min_frequency}};
  for (const auto& [name, section] : modality_options) {
    out[name] = section.json();
  }
  return out;
}

bool DatasetOptions::uses(const std::string& modality) const {
  return std::find(modalities.begin(), modalities.end(), modality) != modalities.end();
}

Config DatasetOptions::section(const std::string& modality) const {
  const auto it = modality_options.find(modality);
  return it != modality_options.end() ? it->second : Config(Json::object());
}

FittedPreprocessing FittedPreprocessing::from_json(const Config& state) {
  if (!state.is_object()) {
    state.fail("expected an object of fitted preprocessing state");
  }
  // Parsing the built-in modalities' state checks it now, with JSON paths, rather than when data first arrives.
  if (const auto t = state.find_child("tokenizer")) {
    (void)Tokenizer::from_json(*t);
  }
  if (const auto n = state.find_child("numeric")) {
    (void)NumericPreprocessor::from_json(*n);
  }
  if (const auto c = state.find_child("categories")) {
    (void)CategoryEncoder::from_json(*c);
  }
  for (const auto& key : state.keys()) {
    if (key != "tokenizer" && key != "numeric" && key != "categories" && !modality_registry().contains(key)) {
      state.child(key).fail(fmt::format("unknown fitted state '{}': expected 'tokenizer', 'numeric', 'categories' or "
                                        "the name of a registered modality",
                                        key));
    }
  }
  FittedPreprocessing f;
  f.state_ = state;
  return f;
}

void FittedPreprocessing::merge(const Json& state) {
  FINFUSE_CHECK(state.is_object(), "a modality's fitted state must be a JSON object, got ", state.dump());
  Json merged = state_.json();
  for (const auto& [key, value] : state.items()) {
    FINFUSE_CHECK(!merged.contains(key), "two modalities store fitted state under '", key, "'");
    merged[key] = value;
  }
  state_ = Config(std::move(merged), state_.source());
}

std::optional<Tokenizer> FittedPreprocessing::tokenizer() const {
  const auto t = state_.find_child("tokenizer");
  return t ? std::optional<Tokenizer>(Tokenizer::from_json(*t)) : std::nullopt;
}

std::optional<NumericPreprocessor> FittedPreprocessing::numeric() const {
  const auto n = state_.find_child("numeric");
  return n ? std::optional<NumericPreprocessor>(NumericPreprocessor::from_json(*n)) : std::nullopt;
}

std::optional<CategoryEncoder> FittedPreprocessing::categories() const {
  const auto c = state_.find_child("categories");
  return c ? std::optional<CategoryEncoder>(CategoryEncoder::from_json(*c)) : std::nullopt;
}

}  // namespace finfuse::data
