// Building the dataset: every sample's inputs, modality by modality, with preprocessing fitted on the training samples
// only; coverage and collation into batches. Options are in dataset_options.cpp, the cache format in dataset_cache.cpp.
#include "finfuse/data/multimodal_dataset.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace finfuse::data {

MultimodalDataset MultimodalDataset::build(const SampleSet& samples, const DataSources& sources,
                                           const DatasetOptions& options, const std::vector<std::size_t>& train) {
  return build_impl(samples, sources, options, train, nullptr);
}

MultimodalDataset MultimodalDataset::build(const SampleSet& samples, const DataSources& sources,
                                           const DatasetOptions& options, const FittedPreprocessing& fitted) {
  return build_impl(samples, sources, options, {}, &fitted);
}

FittedPreprocessing MultimodalDataset::fitted() const {
  return FittedPreprocessing{tokenizer_, preprocessor_, categories_};
}

MultimodalDataset MultimodalDataset::build_impl(const SampleSet& samples, const DataSources& sources,
                                                const DatasetOptions& options, const std::vector<std::size_t>& train,
                                                const FittedPreprocessing* fitted) {
  MultimodalDataset ds;
  ds.options_ = options;
  ds.entities_ = samples.entities;
  ds.samples_ = samples.samples;
  const std::size_t n = ds.samples_.size();
  for (auto i : train) {
    FINFUSE_CHECK(i < n, "MultimodalDataset::build: training index ", i, " is outside the ", n, " samples");
  }
  FINFUSE_CHECK(fitted != nullptr || !train.empty() || n == 0,
                "MultimodalDataset::build: no training samples to fit preprocessing on");

  auto stage_start = std::chrono::steady_clock::now();
  const auto stage_done = [&stage_start](const char* stage) {
    const auto now = std::chrono::steady_clock::now();
    logger()->debug("dataset: {} in {:.3f} s", stage, std::chrono::duration<double>(now - stage_start).count());
    stage_start = now;
  };
  if (options.uses("price")) {
    FINFUSE_CHECK(sources.prices != nullptr, "the 'price' modality needs a price panel");
    FINFUSE_CHECK(samples.timed, "the 'price' modality needs samples with decision times");
    ds.price_window_ = samples.price_window;
    FINFUSE_CHECK(ds.price_window_ > 0, "the sample set has no price window length");
    ds.price_.reserve(n * static_cast<std::size_t>(ds.price_window_ * options.price.features()));
    for (const auto& s : ds.samples_) {
      const auto window = price_window(sources.prices->series(ds.entities_[static_cast<std::size_t>(s.entity)]),
                                       s.last_bar, ds.price_window_, options.price);
      ds.price_.insert(ds.price_.end(), window.begin(), window.end());
    }
    stage_done("price windows");
  }

  if (options.uses("text")) {
    const auto max_texts = static_cast<std::size_t>(options.max_texts);
    std::vector<std::vector<const TextRecord*>> windows(n);
    std::vector<TextRecord> table_texts;
    if (options.text_table.table.empty()) {
      FINFUSE_CHECK(sources.texts != nullptr, "the 'text' modality needs a text corpus (or dataset.text_table)");
      FINFUSE_CHECK(samples.timed, "the 'text' modality needs samples with decision times");
      at::parallel_for(0, static_cast<std::int64_t>(n), 1024, [&](std::int64_t begin, std::int64_t end) {
        for (auto k = begin; k < end; ++k) {
          const auto i = static_cast<std::size_t>(k);
          const Sample& s = ds.samples_[i];
          windows[i] = sources.texts->window(ds.entities_[static_cast<std::size_t>(s.entity)], s.text_start,
                                             s.text_cutoff, max_texts);
        }
      });
    } else {
      // One text per sample from a table's text column, the row joined like the numeric modality's.
      const auto& name = options.text_table.table;
      const NumericTable* table = nullptr;
      for (const auto& [source, candidate] : sources.tables) {
        if (source == name) {
          table = candidate;
        }
      }
      FINFUSE_CHECK(table != nullptr, "the 'text' modality's table '", name, "' is not among the sources");
      const auto column = table->text_column_index(options.text_table.column);
      FINFUSE_CHECK(column.has_value(), "column '", options.text_table.column, "' of table '", name,
                    "' is not one of its text_columns ", quoted_list(table->text_columns()));
      FINFUSE_CHECK(table->kind() == "static" || samples.timed, "text table '", name,
                    "' is joined by time, but the samples carry no decision times");
      table_texts.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        const Sample& s = ds.samples_[i];
        const std::string key =
            table->kind() == "global" ? std::string() : ds.entities_[static_cast<std::size_t>(s.entity)];
        const auto row = table->kind() == "static" ? table->row_of(key) : table->row_as_of(key, s.time);
        if (row && !table->text(*row, *column).empty()) {
          table_texts[i].text = table->text(*row, *column);
          windows[i].push_back(&table_texts[i]);
        }
      }
    }
    // Each distinct text once (a tweet sits in the windows of several days' samples): slot k of sample i holds
    // distinct[slot_text[offset[i] + k]].
    std::vector<std::size_t> offset(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      offset[i + 1] = offset[i] + windows[i].size();
    }
    std::unordered_map<const TextRecord*, std::size_t> index;
    index.reserve(offset[n]);
    std::vector<const TextRecord*> distinct;
    std::vector<std::size_t> slot_text(offset[n]);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < windows[i].size(); ++k) {
        const auto [it, inserted] = index.emplace(windows[i][k], distinct.size());
        if (inserted) {
          distinct.push_back(windows[i][k]);
        }
        slot_text[offset[i] + k] = it->second;
      }
    }
    // The vocabulary sees each text once, and only texts that training samples could see.
    std::vector<char> in_training(distinct.size(), 0);
    std::vector<std::string_view> training_texts;
    for (auto i : train) {
      for (auto slot = offset[i]; slot < offset[i + 1]; ++slot) {
        if (in_training[slot_text[slot]] == 0) {
          in_training[slot_text[slot]] = 1;
          training_texts.emplace_back(distinct[slot_text[slot]]->text);
        }
      }
    }
    stage_done("text windows");
    if (fitted != nullptr) {
      FINFUSE_CHECK(fitted->tokenizer.has_value(), "the 'text' modality needs the model's fitted tokenizer");
      ds.tokenizer_ = fitted->tokenizer;
    } else {
      ds.tokenizer_ = Tokenizer::create(options.tokenizer, std::move(training_texts));
      stage_done("vocabulary");
    }
    const auto length = static_cast<std::size_t>(options.tokenizer.max_length);
    const bool per_text = options.text_layout == "per_text";
    ds.text_shape_ = static_cast<std::int64_t>(per_text ? max_texts * length : length);
    FINFUSE_CHECK(ds.tokenizer_->vocab_size() <= std::numeric_limits<std::int32_t>::max(),
                  "a vocabulary of ", ds.tokenizer_->vocab_size(), " tokens does not fit 32-bit token ids");
    const auto shape = static_cast<std::size_t>(ds.text_shape_);
    const auto pad = static_cast<std::int32_t>(ds.tokenizer_->pad_id());
    // Every element is written once by the parallel loops below (ids, padding and mask of each row), so the 40-odd
    // MB are first touched on every thread rather than zero-filled serially and written again.
    ds.text_ids_.resize(n * shape);
    ds.text_mask_.resize(ds.text_ids_.size());
    ds.text_present_.resize(n);
    // Writes `count` ids to row `base` of the token-id table and pads the rest of the row's `width` slots.
    const auto put = [&](std::size_t base, std::size_t width, const std::int32_t* ids, std::size_t count) {
      std::copy_n(ids, count, ds.text_ids_.data() + base);
      std::fill_n(ds.text_ids_.data() + base + count, width - count, pad);
      std::fill_n(ds.text_mask_.data() + base, count, std::uint8_t{1});
      std::fill_n(ds.text_mask_.data() + base + count, width - count, std::uint8_t{0});
    };
    if (per_text) {
      // Encode each distinct text once, on every intra-op thread, then copy into the windows.
      UninitializedVector<std::int32_t> encoded(distinct.size() * length);
      UninitializedVector<std::int32_t> encoded_length(distinct.size());
      at::parallel_for(0, static_cast<std::int64_t>(distinct.size()), 512, [&](std::int64_t begin, std::int64_t end) {
        for (auto t = begin; t < end; ++t) {
          const auto d = static_cast<std::size_t>(t);
          encoded_length[d] =
              static_cast<std::int32_t>(ds.tokenizer_->encode_into(distinct[d]->text, encoded.data() + d * length));
        }
      });
      at::parallel_for(0, static_cast<std::int64_t>(n), 256, [&](std::int64_t begin, std::int64_t end) {
        for (auto s = begin; s < end; ++s) {
          const auto i = static_cast<std::size_t>(s);
          ds.text_present_[i] = windows[i].empty() ? 0 : 1;
          for (std::size_t k = 0; k < max_texts; ++k) {
            if (k < windows[i].size()) {
              const auto d = slot_text[offset[i] + k];
              put(i * shape + k * length, length, encoded.data() + d * length,
                  static_cast<std::size_t>(encoded_length[d]));
            } else {
              put(i * shape + k * length, length, nullptr, 0);
            }
          }
        }
      });
    } else {
      at::parallel_for(0, static_cast<std::int64_t>(n), 256, [&](std::int64_t begin, std::int64_t end) {
        std::string joined;
        std::vector<std::int32_t> ids(length);
        for (auto s = begin; s < end; ++s) {
          const auto i = static_cast<std::size_t>(s);
          const auto& texts = windows[i];
          ds.text_present_[i] = texts.empty() ? 0 : 1;
          joined.clear();
          for (const auto* text : texts) {
            joined += text->text;
            joined += '\n';
          }
          const auto count = texts.empty() ? 0 : ds.tokenizer_->encode_into(joined, ids.data());
          put(i * shape, length, ids.data(), static_cast<std::size_t>(count));
        }
      });
    }
    stage_done("token ids");
  }

  if (options.uses("chart")) {
    FINFUSE_CHECK(sources.prices != nullptr, "the 'chart' modality needs a price panel");
    FINFUSE_CHECK(samples.timed, "the 'chart' modality needs samples with decision times");
    ds.chart_height_ = options.chart.image_height();
    ds.chart_width_ = options.chart.image_width();
    const auto pixels = static_cast<std::size_t>(ds.chart_height_ * ds.chart_width_);
    ds.charts_.assign(n * pixels, 0);
    ds.chart_present_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const Sample& s = ds.samples_[i];
      if (s.last_bar - options.chart.days + 1 < 0) {
        continue;  // not enough history for a chart: the modality is absent for this sample
      }
      const Image image =
          render_chart(sources.prices->series(ds.entities_[static_cast<std::size_t>(s.entity)]), s.last_bar, options.chart);
      std::copy(image.pixels.begin(), image.pixels.end(), ds.charts_.begin() + static_cast<std::ptrdiff_t>(i * pixels));
      ds.chart_present_[i] = 1;
    }
  }

  if (options.graph.kind != "none") {
    FINFUSE_CHECK(samples.timed, "a relation graph needs samples with decision days");
    const bool correlation = options.graph.kind == "correlation";
    FINFUSE_CHECK(!correlation || sources.prices != nullptr, "a correlation graph needs a price panel");
    FINFUSE_CHECK(correlation || sources.graph != nullptr, "graph kind 'edges' needs a relation graph source");
    const MarketClock clock(samples.market);
    const std::vector<Date> calendar = correlation ? sources.prices->calendar() : std::vector<Date>();
    for (const auto& s : ds.samples_) {
      if (ds.graphs_.count(s.day.days()) != 0) {
        continue;
      }
      // The graph as of the decision: relations valid that day, or correlations of closes known by then.
      ds.graphs_[s.day.days()] =
          correlation ? correlation_graph(*sources.prices, calendar, ds.entities_, s.time, clock,
                                          options.graph.lookback, options.graph.threshold)
                      : sources.graph->snapshot(ds.entities_, s.day);
    }
  }

  if (options.uses("image")) {
    const NumericTable* table = nullptr;
    for (const auto& [name, candidate] : sources.tables) {
      if (name == options.image.table) {
        table = candidate;
      }
    }
    FINFUSE_CHECK(table != nullptr, "the 'image' modality's table '", options.image.table, "' is not among the sources");
    const auto& columns = table->path_columns();
    const auto found = std::find(columns.begin(), columns.end(), options.image.column);
    FINFUSE_CHECK(found != columns.end(), "column '", options.image.column, "' of table '", options.image.table,
                  "' is not one of its path_columns");
    const auto column = static_cast<std::size_t>(found - columns.begin());
    FINFUSE_CHECK(table->kind() == "static" || samples.timed, "image table '", options.image.table,
                  "' is joined by time, but the samples carry no decision times");
    const auto c = options.image.channels;
    const auto h = options.image.height;
    const auto w = options.image.width;
    const auto values = static_cast<std::size_t>(c * h * w);
    ds.images_.assign(n * values, 0);
    ds.image_present_.assign(n, 0);
    std::int64_t unusable = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const Sample& s = ds.samples_[i];
      const std::string key = table->kind() == "global" ? std::string() : ds.entities_[static_cast<std::size_t>(s.entity)];
      const auto row = table->kind() == "static" ? table->row_of(key) : table->row_as_of(key, s.time);
      if (!row || table->path(*row, column).empty()) {
        continue;
      }
      try {
        Image image;
        try {
          image = load_image(table->path(*row, column), static_cast<int>(c));
        } catch (const Error& e) {
          throw DataError(table->source(), table->line(*row), options.image.column, e.what());
        }
        if (image.height != h || image.width != w) {
          image = resize_image(image, h, w);
        }
        // Channel-first, as image encoders take it.
        std::uint8_t* dst = ds.images_.data() + i * values;
        for (std::int64_t ch = 0; ch < c; ++ch) {
          for (std::int64_t y = 0; y < h; ++y) {
            for (std::int64_t x = 0; x < w; ++x) {
              dst[(ch * h + y) * w + x] = image.at(y, x, ch);
            }
          }
        }
        ds.image_present_[i] = 1;
      } catch (const DataError&) {
        if (options.image.on_missing == "error") {
          throw;
        }
        ++unusable;
      }
    }
    if (unusable > 0) {
      logger()->warn("{} referenced image(s) could not be read; those samples lack the image modality", unusable);
    }
  }

  if (options.uses("numeric")) {
    FINFUSE_CHECK(!sources.tables.empty(), "the 'numeric' modality needs at least one numeric table");
    // Model inputs must never hold NaN: a sample without any row is marked absent, and the gaps are filled.
    FINFUSE_CHECK(options.numeric.impute != "none",
                  "the numeric modality needs missing values handled: set numeric.impute to mean, median, constant or "
                  "drop");
    std::vector<std::string> names;
    std::vector<std::string> category_names;
    for (const auto& [name, table] : sources.tables) {
      FINFUSE_CHECK(table != nullptr, "numeric table '", name, "' is null");
      FINFUSE_CHECK(table->kind() == "static" || samples.timed, "numeric table '", name,
                    "' is joined by time, but the samples carry no decision times");
      for (const auto& column : table->columns()) {
        names.push_back(name + "." + column);
      }
      for (const auto& column : table->categorical_columns()) {
        category_names.push_back(name + "." + column);
      }
    }
    const auto width = names.size();
    const auto category_width = category_names.size();
    FINFUSE_CHECK(width + category_width > 0, "the numeric tables have no columns");
    std::vector<float> raw(n * width, std::numeric_limits<float>::quiet_NaN());
    std::vector<std::string> raw_categories(n * category_width);
    ds.numeric_present_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const Sample& s = ds.samples_[i];
      const std::string& entity = ds.entities_[static_cast<std::size_t>(s.entity)];
      std::size_t offset = 0;
      std::size_t category_offset = 0;
      for (const auto& [name, table] : sources.tables) {
        const bool is_static = table->kind() == "static";
        const std::string key = table->kind() == "global" ? std::string() : entity;
        const auto row = is_static ? table->row_of(key) : table->row_as_of(key, s.time);
        if (row) {
          ds.numeric_present_[i] = 1;
          for (std::size_t c = 0; c < table->columns().size(); ++c) {
            float v = table->value(*row, c);
            if (std::isnan(v) && options.forward_fill && !is_static) {
              v = table->last_observed(key, s.time, c);
            }
            raw[i * width + offset + c] = v;
          }
          for (std::size_t c = 0; c < table->categorical_columns().size(); ++c) {
            raw_categories[i * category_width + category_offset + c] = table->category(*row, c);
          }
        }
        offset += table->columns().size();
        category_offset += table->categorical_columns().size();
      }
    }
    if (options.numeric.impute == "drop") {
      ds.dropped_.assign(n, 0);
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < width; ++c) {
          if (std::isnan(raw[i * width + c])) {
            ds.dropped_[i] = 1;
            break;
          }
        }
      }
      logger()->info("{} of {} samples left out for missing numeric values (impute: drop)",
                     std::count(ds.dropped_.begin(), ds.dropped_.end(), 1), n);
    }
    if (width > 0 && options.cross_section != "none") {
      FINFUSE_CHECK(samples.timed, "cross-sectional transforms need samples with decision days");
      std::vector<std::int64_t> days(n);
      for (std::size_t i = 0; i < n; ++i) {
        days[i] = ds.samples_[i].day.days();
      }
      std::vector<float> column(n);
      for (std::size_t c = 0; c < width; ++c) {
        for (std::size_t i = 0; i < n; ++i) {
          column[i] = raw[i * width + c];
        }
        const auto transformed = options.cross_section == "zscore" ? cross_sectional_zscore(column, days)
                                                                   : cross_sectional_rank(column, days);
        for (std::size_t i = 0; i < n; ++i) {
          raw[i * width + c] = transformed[i];
        }
      }
    }
    if (width > 0) {
      std::vector<float> train_rows;
      train_rows.reserve(train.size() * width);
      for (auto i : train) {
        if (!ds.usable(i)) {
          continue;
        }
        train_rows.insert(train_rows.end(), raw.begin() + static_cast<std::ptrdiff_t>(i * width),
                          raw.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
      }
      if (fitted != nullptr) {
        FINFUSE_CHECK(fitted->numeric.has_value(), "the 'numeric' modality needs the model's fitted preprocessing");
        ds.preprocessor_ = fitted->numeric;
        FINFUSE_CHECK(ds.preprocessor_->input_columns() == width &&
                          (ds.preprocessor_->input_names().empty() || ds.preprocessor_->input_names() == names),
                      "the numeric columns (", fmt::format("{}", fmt::join(names, ", ")),
                      ") differ from those the model was trained on (",
                      fmt::format("{}", fmt::join(ds.preprocessor_->input_names(), ", ")), ")");
      } else {
        FINFUSE_CHECK(!train_rows.empty(), "no training sample has every numeric value (impute: drop)");
        ds.preprocessor_ = NumericPreprocessor(options.numeric);
        ds.preprocessor_->fit(train_rows, width, names);
      }
      ds.numeric_width_ = static_cast<std::int64_t>(ds.preprocessor_->output_columns());
      ds.numeric_values_ = ds.preprocessor_->transform(raw);
    }
    if (category_width > 0) {
      std::vector<std::string> train_rows;
      train_rows.reserve(train.size() * category_width);
      for (auto i : train) {
        train_rows.insert(train_rows.end(), raw_categories.begin() + static_cast<std::ptrdiff_t>(i * category_width),
                          raw_categories.begin() + static_cast<std::ptrdiff_t>((i + 1) * category_width));
      }
      if (fitted != nullptr) {
        FINFUSE_CHECK(fitted->categories.has_value(), "the categorical columns need the model's fitted category "
                      "vocabularies");
        ds.categories_ = fitted->categories;
        FINFUSE_CHECK(ds.categories_->names() == category_names, "the categorical columns (",
                      fmt::format("{}", fmt::join(category_names, ", ")), ") differ from those the model was trained on (",
                      fmt::format("{}", fmt::join(ds.categories_->names(), ", ")), ")");
      } else {
        ds.categories_ = CategoryEncoder();
        ds.categories_->fit(train_rows, category_width, category_names, options.category_min_frequency);
      }
      ds.category_width_ = static_cast<std::int64_t>(category_width);
      ds.category_ids_ = ds.categories_->transform(raw_categories);
    }
  }

  logger()->info("dataset: {} samples; modalities {}", n, fmt::join(options.modalities, ", "));
  return ds;
}

double MultimodalDataset::coverage(const std::string& modality) const {
  if (samples_.empty()) {
    return 0.0;
  }
  const auto fraction = [&](const std::vector<std::uint8_t>& present) {
    return static_cast<double>(std::count(present.begin(), present.end(), 1)) / static_cast<double>(samples_.size());
  };
  if (modality == "price") {
    return options_.uses("price") ? 1.0 : 0.0;
  }
  if (modality == "text") {
    return fraction(text_present_);
  }
  if (modality == "numeric" || modality == "categorical") {
    return fraction(numeric_present_);
  }
  if (modality == "chart") {
    return fraction(chart_present_);
  }
  if (modality == "image") {
    return fraction(image_present_);
  }
  return 0.0;
}

std::vector<std::size_t> MultimodalDataset::usable_only(const std::vector<std::size_t>& indices) const {
  std::vector<std::size_t> out;
  out.reserve(indices.size());
  for (auto i : indices) {
    if (usable(i)) {
      out.push_back(i);
    }
  }
  return out;
}

Batch MultimodalDataset::collate(const std::vector<std::size_t>& indices) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  for (auto i : indices) {
    FINFUSE_CHECK(i < samples_.size(), "MultimodalDataset::collate: index ", i, " is outside the ", samples_.size(),
                  " samples");
    FINFUSE_CHECK(usable(i), "MultimodalDataset::collate: sample ", i,
                  " was left out for a missing numeric value (impute: drop)");
  }
  Batch batch;
  const auto gather_float = [&](const std::vector<float>& source, std::int64_t width, std::vector<std::int64_t> shape) {
    torch::Tensor out = torch::empty(shape, torch::kFloat32);
    float* dst = out.data_ptr<float>();
    for (std::int64_t k = 0; k < b; ++k) {
      std::copy_n(source.data() + indices[static_cast<std::size_t>(k)] * static_cast<std::size_t>(width), width,
                  dst + k * width);
    }
    return out;
  };
  const auto presence = [&](const std::vector<std::uint8_t>* present) {
    torch::Tensor out = torch::ones({b}, torch::kBool);
    if (present != nullptr) {
      bool* dst = out.data_ptr<bool>();
      for (std::int64_t k = 0; k < b; ++k) {
        dst[k] = (*present)[indices[static_cast<std::size_t>(k)]] != 0;
      }
    }
    return out;
  };
  if (options_.uses("price")) {
    const std::int64_t features = options_.price.features();
    const std::int64_t width = price_window_ * features;
    batch.modalities["price"] = ModalityBatch{gather_float(price_, width, {b, price_window_, features}),
                                              torch::Tensor(), presence(nullptr)};
  }
  if (options_.uses("text")) {
    std::vector<std::int64_t> shape = {b, text_shape_};
    if (options_.text_layout == "per_text") {
      shape = {b, options_.max_texts, options_.tokenizer.max_length};
    }
    torch::Tensor ids = torch::empty(shape, torch::kInt64);
    torch::Tensor mask = torch::empty(shape, torch::kBool);
    std::int64_t* id_dst = ids.data_ptr<std::int64_t>();
    bool* mask_dst = mask.data_ptr<bool>();
    for (std::int64_t k = 0; k < b; ++k) {
      const std::size_t base = indices[static_cast<std::size_t>(k)] * static_cast<std::size_t>(text_shape_);
      for (std::int64_t j = 0; j < text_shape_; ++j) {
        id_dst[k * text_shape_ + j] = text_ids_[base + static_cast<std::size_t>(j)];
        mask_dst[k * text_shape_ + j] = text_mask_[base + static_cast<std::size_t>(j)] != 0;
      }
    }
    batch.modalities["text"] = ModalityBatch{ids, mask, presence(&text_present_)};
  }
  if (options_.uses("numeric") && numeric_width_ > 0) {
    batch.modalities["numeric"] = ModalityBatch{gather_float(numeric_values_, numeric_width_, {b, numeric_width_}),
                                                torch::Tensor(), presence(&numeric_present_)};
  }
  if (options_.uses("numeric") && category_width_ > 0) {
    torch::Tensor ids = torch::empty({b, category_width_}, torch::kInt64);
    std::int64_t* dst = ids.data_ptr<std::int64_t>();
    for (std::int64_t k = 0; k < b; ++k) {
      std::copy_n(category_ids_.data() + indices[static_cast<std::size_t>(k)] * static_cast<std::size_t>(category_width_),
                  category_width_, dst + k * category_width_);
    }
    batch.modalities["categorical"] = ModalityBatch{ids, torch::Tensor(), presence(&numeric_present_)};
  }
  if (options_.uses("chart")) {
    const std::int64_t pixels = chart_height_ * chart_width_;
    torch::Tensor images = torch::empty({b, 1, chart_height_, chart_width_}, torch::kFloat32);
    float* dst = images.data_ptr<float>();
    for (std::int64_t k = 0; k < b; ++k) {
      const std::uint8_t* src = charts_.data() + indices[static_cast<std::size_t>(k)] * static_cast<std::size_t>(pixels);
      for (std::int64_t p = 0; p < pixels; ++p) {
        dst[k * pixels + p] = static_cast<float>(src[p]) / 255.0f;
      }
    }
    batch.modalities["chart"] = ModalityBatch{images, torch::Tensor(), presence(&chart_present_)};
  }
  if (options_.uses("image")) {
    const auto& o = options_.image;
    const std::int64_t values = o.channels * o.height * o.width;
    torch::Tensor images = torch::empty({b, o.channels, o.height, o.width}, torch::kFloat32);
    float* dst = images.data_ptr<float>();
    for (std::int64_t k = 0; k < b; ++k) {
      const std::uint8_t* src = images_.data() + indices[static_cast<std::size_t>(k)] * static_cast<std::size_t>(values);
      for (std::int64_t p = 0; p < values; ++p) {
        dst[k * values + p] = static_cast<float>(src[p]) / 255.0f;
      }
    }
    batch.modalities["image"] = ModalityBatch{images, torch::Tensor(), presence(&image_present_)};
  }
  if (!graphs_.empty() && b > 0) {
    const std::int32_t day = samples_[indices[0]].day.days();
    const bool one_day = std::all_of(indices.begin(), indices.end(),
                                     [&](std::size_t i) { return samples_[i].day.days() == day; });
    if (one_day) {
      std::vector<std::int64_t> position(entities_.size(), -1);
      for (std::int64_t k = 0; k < b; ++k) {
        position[static_cast<std::size_t>(samples_[indices[static_cast<std::size_t>(k)]].entity)] = k;
      }
      const GraphSnapshot& graph = graphs_.at(day);
      std::vector<std::int64_t> source;
      std::vector<std::int64_t> target;
      std::vector<float> weight;
      for (std::size_t e = 0; e < graph.edges(); ++e) {
        const auto from = position[static_cast<std::size_t>(graph.source[e])];
        const auto to = position[static_cast<std::size_t>(graph.target[e])];
        if (from >= 0 && to >= 0) {
          source.push_back(from);
          target.push_back(to);
          weight.push_back(graph.weight[e]);
        }
      }
      const auto edges = static_cast<std::int64_t>(source.size());
      batch.edge_index = torch::empty({2, edges}, torch::kInt64);
      std::copy(source.begin(), source.end(), batch.edge_index.data_ptr<std::int64_t>());
      std::copy(target.begin(), target.end(), batch.edge_index.data_ptr<std::int64_t>() + edges);
      batch.edge_weight = torch::from_blob(weight.data(), {edges}, torch::kFloat32).clone();
    }
  }
  batch.target = torch::empty({b}, torch::kFloat32);
  batch.forward_return = torch::empty({b}, torch::kFloat32);
  batch.entity = torch::empty({b}, torch::kInt64);
  batch.day = torch::empty({b}, torch::kInt32);
  for (std::int64_t k = 0; k < b; ++k) {
    const Sample& s = samples_[indices[static_cast<std::size_t>(k)]];
    batch.target.data_ptr<float>()[k] = s.target;
    batch.forward_return.data_ptr<float>()[k] = static_cast<float>(s.forward_return);
    batch.entity.data_ptr<std::int64_t>()[k] = s.entity;
    batch.day.data_ptr<std::int32_t>()[k] = s.day.days();
  }
  return batch;
}

}  // namespace finfuse::data
