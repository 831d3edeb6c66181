// The dataset's options read from and written to JSON, and the fitted preprocessing a bundle stores.
#include "finfuse/data/multimodal_dataset.h"

#include "finfuse/core/check.h"

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

DatasetOptions DatasetOptions::from_config(const Config& config) {
  DatasetOptions o;
  o.modalities = config.get<std::vector<std::string>>("modalities", o.modalities);
  if (o.modalities.empty()) {
    config.fail_at("modalities", "name at least one of 'price', 'text', 'numeric', 'chart'");
  }
  for (std::size_t i = 0; i < o.modalities.size(); ++i) {
    const auto& m = o.modalities[i];
    if (m != "price" && m != "text" && m != "numeric" && m != "chart" && m != "image") {
      config.child("modalities")[i].fail(
          fmt::format("unknown modality '{}'; expected 'price', 'text', 'numeric', 'chart' or 'image'", m));
    }
    if (std::count(o.modalities.begin(), o.modalities.end(), m) > 1) {
      config.child("modalities")[i].fail(fmt::format("modality '{}' is listed twice", m));
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
  return o;
}

Json DatasetOptions::to_json() const {
  return Json{{"modalities", modalities},
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
}

bool DatasetOptions::uses(const std::string& modality) const {
  return std::find(modalities.begin(), modalities.end(), modality) != modalities.end();
}

Json FittedPreprocessing::to_json() const {
  Json out = Json::object();
  if (tokenizer) {
    out["tokenizer"] = tokenizer->to_json();
  }
  if (numeric) {
    out["numeric"] = numeric->to_json();
  }
  if (categories) {
    out["categories"] = categories->to_json();
  }
  return out;
}

FittedPreprocessing FittedPreprocessing::from_json(const Config& state) {
  FittedPreprocessing f;
  if (const auto t = state.find_child("tokenizer")) {
    f.tokenizer = Tokenizer::from_json(*t);
  }
  if (const auto n = state.find_child("numeric")) {
    f.numeric = NumericPreprocessor::from_json(*n);
  }
  if (const auto c = state.find_child("categories")) {
    f.categories = CategoryEncoder::from_json(*c);
  }
  state.reject_unknown_keys();
  return f;
}

}  // namespace finfuse::data
