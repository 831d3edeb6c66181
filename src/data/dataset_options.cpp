// The dataset's options read from and written to JSON, and the fitted preprocessing a bundle stores.
#include "finfuse/data/dataset_options.h"

#include "finfuse/core/check.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/fitted_preprocessing.h"
#include "finfuse/data/modality.h"

#include <fmt/format.h>

#include <algorithm>

namespace finfuse::data {

void ImageOptions::validate(const Config& config) const {
  if (channels != 1 && channels != 3) {
    config.fail_at("channels", fmt::format("must be 1 or 3, got {}", channels));
  }
}

void TextTableOptions::validate(const Config& config) const {
  if (table.empty() != column.empty()) {
    config.fail(fmt::format("needs both the table and its text column (got table \"{}\", column \"{}\")", table,
                            column));
  }
}

void DatasetOptions::validate(const Config& config) {
  const auto known = modality_registry().names();
  if (modalities.empty()) {
    config.fail_at("modalities", fmt::format("name at least one modality: {}", quoted_list(known)));
  }
  modality_options.clear();
  for (std::size_t i = 0; i < modalities.size(); ++i) {
    const auto& m = modalities[i];
    if (!modality_registry().contains(m)) {
      config.child("modalities")[i].fail(
          fmt::format("unknown modality '{}'{}; registered: {}", m, did_you_mean(m, known), quoted_list(known)));
    }
    if (std::count(modalities.begin(), modalities.end(), m) > 1) {
      config.child("modalities")[i].fail(fmt::format("modality '{}' is listed twice", m));
    }
    if (!is_builtin_modality(m)) {
      const auto& own = fields();
      if (std::any_of(own.begin(), own.end(), [&](const FieldInfo& f) { return f.name == m; })) {
        config.child("modalities")[i].fail(
            fmt::format("a registered modality cannot be named '{}': dataset.{} holds other options", m, m));
      }
      modality_options[m] = config.section(m);
    }
  }
  if (uses("image") && (image.table.empty() || image.column.empty())) {
    config.fail_at("image", "the 'image' modality needs the table and the column that name the image files");
  }
  // A registered modality's factory reads and checks its own section, with errors at its JSON path.
  for (const auto& [name, section] : modality_options) {
    (void)modality_registry().create(name, *this);
  }
}

void DatasetOptions::extend_json(Json& out) const {
  for (const auto& [name, section] : modality_options) {
    out[name] = section.json();
  }
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
  for (const auto& key : state.keys()) {
    if (key != "tokenizer" && key != "numeric" && key != "categories" && !modality_registry().contains(key)) {
      state.child(key).fail(fmt::format("unknown fitted state '{}': expected 'tokenizer', 'numeric', 'categories' or "
                                        "the name of a registered modality",
                                        key));
    }
  }
  FittedPreprocessing f;
  f.state_ = state;
  // Parsing the built-in modalities' state checks it now, with JSON paths, rather than when data first arrives.
  f.parse_builtin();
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
  parse_builtin();
}

void FittedPreprocessing::parse_builtin() {
  if (!tokenizer_) {
    if (const auto t = state_.find_child("tokenizer")) {
      tokenizer_ = Tokenizer::from_json(*t);
    }
  }
  if (!numeric_) {
    if (const auto n = state_.find_child("numeric")) {
      numeric_ = NumericPreprocessor::from_json(*n);
    }
  }
  if (!categories_) {
    if (const auto c = state_.find_child("categories")) {
      categories_ = CategoryEncoder::from_json(*c);
    }
  }
}

}  // namespace finfuse::data
