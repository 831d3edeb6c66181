// The built dataset as bytes (the on-disk cache of DataPipeline) and back, with errors naming the cache file.
#include "finfuse/data/multimodal_dataset.h"

#include "finfuse/core/check.h"

#include "binary_io.h"

#include <fmt/format.h>

#include <optional>

namespace finfuse::data {

std::string MultimodalDataset::serialize() const {
  static_assert(std::is_trivially_copyable_v<Sample>);
  detail::BinaryWriter w;
  w.str(options_.to_json().dump());
  w.strings(entities_);
  w.vec(samples_);
  w.pod(price_window_);
  w.vec(price_);
  w.pod(text_shape_);
  w.vec(text_ids_);
  w.vec(text_mask_);
  w.vec(text_present_);
  w.str(tokenizer_ ? tokenizer_->to_json().dump() : std::string());
  w.pod(numeric_width_);
  w.vec(numeric_values_);
  w.vec(numeric_present_);
  w.vec(dropped_);
  w.str(preprocessor_ ? preprocessor_->to_json().dump() : std::string());
  w.pod(category_width_);
  w.vec(category_ids_);
  w.str(categories_ ? categories_->to_json().dump() : std::string());
  w.pod(chart_height_);
  w.pod(chart_width_);
  w.vec(charts_);
  w.vec(chart_present_);
  w.vec(images_);
  w.vec(image_present_);
  w.pod<std::uint64_t>(graphs_.size());
  for (const auto& [day, graph] : graphs_) {
    w.pod(day);
    w.vec(graph.source);
    w.vec(graph.target);
    w.vec(graph.weight);
  }
  return w.take();
}

MultimodalDataset MultimodalDataset::deserialize(std::string_view bytes, const std::string& source) {
  detail::BinaryReader r(bytes, source);
  MultimodalDataset ds;
  const auto json_or_empty = [&](const std::string& text) {
    return text.empty() ? std::optional<Config>() : std::optional<Config>(Config::parse(text, source));
  };
  ds.options_ = DatasetOptions::from_config(Config::parse(r.str(), source));
  ds.entities_ = r.strings();
  ds.samples_ = r.vec<Sample>();
  ds.price_window_ = r.pod<std::int64_t>();
  ds.price_ = r.vec<float>();
  ds.text_shape_ = r.pod<std::int64_t>();
  ds.text_ids_ = r.vec<std::int32_t, DefaultInitAllocator<std::int32_t>>();
  ds.text_mask_ = r.vec<std::uint8_t, DefaultInitAllocator<std::uint8_t>>();
  ds.text_present_ = r.vec<std::uint8_t>();
  if (const auto state = json_or_empty(r.str())) {
    ds.tokenizer_ = Tokenizer::from_json(*state);
  }
  ds.numeric_width_ = r.pod<std::int64_t>();
  ds.numeric_values_ = r.vec<float>();
  ds.numeric_present_ = r.vec<std::uint8_t>();
  ds.dropped_ = r.vec<std::uint8_t>();
  if (const auto state = json_or_empty(r.str())) {
    ds.preprocessor_ = NumericPreprocessor::from_json(*state);
  }
  ds.category_width_ = r.pod<std::int64_t>();
  ds.category_ids_ = r.vec<std::int64_t>();
  if (const auto state = json_or_empty(r.str())) {
    ds.categories_ = CategoryEncoder::from_json(*state);
  }
  ds.chart_height_ = r.pod<std::int64_t>();
  ds.chart_width_ = r.pod<std::int64_t>();
  ds.charts_ = r.vec<std::uint8_t>();
  ds.chart_present_ = r.vec<std::uint8_t>();
  ds.images_ = r.vec<std::uint8_t>();
  ds.image_present_ = r.vec<std::uint8_t>();
  const auto graph_days = r.pod<std::uint64_t>();
  for (std::uint64_t g = 0; g < graph_days; ++g) {
    const auto day = r.pod<std::int32_t>();
    GraphSnapshot graph;
    graph.source = r.vec<std::int64_t>();
    graph.target = r.vec<std::int64_t>();
    graph.weight = r.vec<float>();
    for (std::size_t e = 0; e < graph.source.size(); ++e) {
      if (graph.source.size() != graph.target.size() || graph.weight.size() != graph.source.size() ||
          graph.source[e] < 0 || graph.target[e] < 0 ||
          static_cast<std::size_t>(std::max(graph.source[e], graph.target[e])) >= ds.entities_.size()) {
        throw DataError(source, 0, "", "inconsistent dataset: a graph edge");
      }
    }
    ds.graphs_[day] = std::move(graph);
  }
  if (!r.done()) {
    throw DataError(source, 0, "", "unexpected bytes after the dataset");
  }
  // The arrays must agree with each other before anything indexes into them.
  const std::size_t n = ds.samples_.size();
  const auto expect = [&](bool ok, const char* what) {
    if (!ok) {
      throw DataError(source, 0, "", fmt::format("inconsistent dataset: {}", what));
    }
  };
  for (const auto& s : ds.samples_) {
    expect(s.entity >= 0 && static_cast<std::size_t>(s.entity) < ds.entities_.size(), "a sample's entity index");
  }
  if (ds.options_.uses("price")) {
    expect(ds.price_.size() == n * static_cast<std::size_t>(ds.price_window_ * ds.options_.price.features()),
           "price windows");
  }
  if (ds.options_.uses("text")) {
    expect(ds.tokenizer_.has_value() && ds.text_ids_.size() == n * static_cast<std::size_t>(ds.text_shape_) &&
               ds.text_mask_.size() == ds.text_ids_.size() && ds.text_present_.size() == n,
           "text tokens");
  }
  if (ds.options_.uses("numeric")) {
    expect(ds.numeric_values_.size() == n * static_cast<std::size_t>(ds.numeric_width_) &&
               ds.numeric_present_.size() == n &&
               ds.category_ids_.size() == n * static_cast<std::size_t>(ds.category_width_) &&
               (ds.dropped_.empty() || ds.dropped_.size() == n),
           "numeric values");
  }
  if (ds.options_.uses("chart")) {
    expect(ds.charts_.size() == n * static_cast<std::size_t>(ds.chart_height_ * ds.chart_width_) &&
               ds.chart_present_.size() == n,
           "charts");
  }
  if (ds.options_.uses("image")) {
    const auto& o = ds.options_.image;
    expect(ds.images_.size() == n * static_cast<std::size_t>(o.channels * o.height * o.width) &&
               ds.image_present_.size() == n,
           "images");
  }
  return ds;
}

}  // namespace finfuse::data
