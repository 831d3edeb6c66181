// The numeric modality: the tables' columns joined as of each decision, forward-filled, cross-sectionally transformed,
// imputed and scaled with preprocessing fitted on training samples; categorical columns encoded the same way.
#include "finfuse/data/modalities/numeric.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace finfuse::data {

NumericModality::NumericModality(const DatasetOptions& options)
    : Modality("numeric"),
      options_(options.numeric),
      cross_section_(options.cross_section),
      forward_fill_(options.forward_fill),
      category_min_frequency_(options.category_min_frequency) {}

void NumericModality::build(const ModalityContext& context) {
  const auto& tables = context.sources.tables;
  FINFUSE_CHECK(!tables.empty(), "the 'numeric' modality needs at least one numeric table");
  // Model inputs must never hold NaN: a sample without any row is marked absent, and the gaps are filled.
  FINFUSE_CHECK(options_.impute != "none",
                "the numeric modality needs missing values handled: set numeric.impute to mean, median, constant or "
                "drop");
  std::vector<std::string> names;
  std::vector<std::string> category_names;
  for (const auto& [name, table] : tables) {
    FINFUSE_CHECK(table != nullptr, "numeric table '", name, "' is null");
    FINFUSE_CHECK(table->kind() == "static" || context.samples.timed, "numeric table '", name,
                  "' is joined by time, but the samples carry no decision times");
    for (const auto& column : table->columns()) {
      names.push_back(name + "." + column);
    }
    for (const auto& column : table->categorical_columns()) {
      category_names.push_back(name + "." + column);
    }
  }
  const auto n = context.size();
  const auto width = names.size();
  const auto category_width = category_names.size();
  FINFUSE_CHECK(width + category_width > 0, "the numeric tables have no columns");
  std::vector<float> raw(n * width, std::numeric_limits<float>::quiet_NaN());
  std::vector<std::string> raw_categories(n * category_width);
  std::vector<std::uint8_t> present(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const Sample& s = context.sample(i);
    std::size_t offset = 0;
    std::size_t category_offset = 0;
    for (const auto& [name, table] : tables) {
      const bool is_static = table->kind() == "static";
      const auto row = context.joined_row(*table, i);
      if (row) {
        present[i] = 1;
        const std::string& key = table->kind() == "global" ? std::string() : context.entity(i);
        for (std::size_t c = 0; c < table->columns().size(); ++c) {
          float v = table->value(*row, c);
          if (std::isnan(v) && forward_fill_ && !is_static) {
            v = table->last_observed(key, s.time(), c);
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
  present_ = std::move(present);
  dropped_.clear();
  if (options_.impute == "drop") {
    dropped_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < width; ++c) {
        if (std::isnan(raw[i * width + c])) {
          dropped_[i] = 1;
          break;
        }
      }
    }
    logger()->info("{} of {} samples left out for missing numeric values (impute: drop)",
                   std::count(dropped_.begin(), dropped_.end(), 1), n);
  }
  if (width > 0 && cross_section_ != "none") {
    FINFUSE_CHECK(context.samples.timed, "cross-sectional transforms need samples with decision days");
    std::vector<std::int64_t> days(n);
    for (std::size_t i = 0; i < n; ++i) {
      days[i] = context.samples.samples.day(i).days();
    }
    std::vector<float> column(n);
    for (std::size_t c = 0; c < width; ++c) {
      for (std::size_t i = 0; i < n; ++i) {
        column[i] = raw[i * width + c];
      }
      const auto transformed =
          cross_section_ == "zscore" ? cross_sectional_zscore(column, days) : cross_sectional_rank(column, days);
      for (std::size_t i = 0; i < n; ++i) {
        raw[i * width + c] = transformed[i];
      }
    }
  }
  width_ = 0;
  values_ = {};
  preprocessor_.reset();
  if (width > 0) {
    if (context.fitted != nullptr) {
      preprocessor_ = context.fitted->numeric();
      FINFUSE_CHECK(preprocessor_.has_value(), "the 'numeric' modality needs the model's fitted preprocessing");
      FINFUSE_CHECK(preprocessor_->input_columns() == width &&
                        (preprocessor_->input_names().empty() || preprocessor_->input_names() == names),
                    "the numeric columns (", fmt::format("{}", fmt::join(names, ", ")),
                    ") differ from those the model was trained on (",
                    fmt::format("{}", fmt::join(preprocessor_->input_names(), ", ")), ")");
    } else {
      std::vector<float> train_rows;
      train_rows.reserve(context.train.size() * width);
      for (auto i : context.train) {
        if (!usable(i)) {
          continue;
        }
        train_rows.insert(train_rows.end(), raw.begin() + static_cast<std::ptrdiff_t>(i * width),
                          raw.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
      }
      FINFUSE_CHECK(!train_rows.empty(), "no training sample has every numeric value (impute: drop)");
      preprocessor_ = NumericPreprocessor(options_);
      preprocessor_->fit(train_rows, width, names);
    }
    width_ = static_cast<std::int64_t>(preprocessor_->output_columns());
    values_ = preprocessor_->transform(raw);
  }
  category_width_ = 0;
  category_ids_ = {};
  categories_.reset();
  if (category_width > 0) {
    if (context.fitted != nullptr) {
      categories_ = context.fitted->categories();
      FINFUSE_CHECK(categories_.has_value(), "the categorical columns need the model's fitted category vocabularies");
      FINFUSE_CHECK(categories_->names() == category_names, "the categorical columns (",
                    fmt::format("{}", fmt::join(category_names, ", ")), ") differ from those the model was trained on (",
                    fmt::format("{}", fmt::join(categories_->names(), ", ")), ")");
    } else {
      std::vector<std::string> train_rows;
      train_rows.reserve(context.train.size() * category_width);
      for (auto i : context.train) {
        train_rows.insert(train_rows.end(), raw_categories.begin() + static_cast<std::ptrdiff_t>(i * category_width),
                          raw_categories.begin() + static_cast<std::ptrdiff_t>((i + 1) * category_width));
      }
      categories_ = CategoryEncoder();
      categories_->fit(train_rows, category_width, category_names, category_min_frequency_);
    }
    category_width_ = static_cast<std::int64_t>(category_width);
    category_ids_ = categories_->transform(raw_categories);
  }
}

std::vector<ModalitySpec> NumericModality::specs() const {
  std::vector<ModalitySpec> out;
  if (width_ > 0) {
    out.emplace_back(name(), std::vector<std::int64_t>{width_});
  }
  if (category_width_ > 0) {
    std::vector<std::int64_t> cardinalities;
    for (std::int64_t c = 0; c < category_width_; ++c) {
      cardinalities.push_back(categories_->cardinality(static_cast<std::size_t>(c)));
    }
    out.emplace_back("categorical", std::vector<std::int64_t>{category_width_}, 0, std::move(cardinalities));
  }
  return out;
}

void NumericModality::collate(const std::vector<std::size_t>& indices, Batch& batch) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  if (width_ > 0) {
    batch.modalities[name()] = ModalityBatch{gather_rows(values_.data(), width_, indices, {b, width_}), torch::Tensor(),
                                             gather_presence(present_, indices)};
  }
  if (category_width_ > 0) {
    torch::Tensor ids = torch::empty({b, category_width_}, torch::kInt64);
    std::int64_t* dst = ids.data_ptr<std::int64_t>();
    for (std::int64_t k = 0; k < b; ++k) {
      std::copy_n(category_ids_.data() + indices[static_cast<std::size_t>(k)] * static_cast<std::size_t>(category_width_),
                  category_width_, dst + k * category_width_);
    }
    batch.modalities["categorical"] = ModalityBatch{ids, torch::Tensor(), gather_presence(present_, indices)};
  }
}

Json NumericModality::fitted_state() const {
  Json out = Json::object();
  if (preprocessor_) {
    out["numeric"] = preprocessor_->to_json();
  }
  if (categories_) {
    out["categories"] = categories_->to_json();
  }
  return out;
}

void NumericModality::save(BinaryWriter& out) const {
  out.pod(width_);
  out.vec(values_);
  out.vec(present_);
  out.vec(dropped_);
  out.str(preprocessor_ ? preprocessor_->to_json().dump() : std::string());
  out.pod(category_width_);
  out.vec(category_ids_);
  out.str(categories_ ? categories_->to_json().dump() : std::string());
}

void NumericModality::load(BinaryReader& in, const SampleList& list) {
  const std::size_t samples = list.size();
  width_ = in.pod<std::int64_t>();
  values_ = in.array<float>();
  present_ = in.array<std::uint8_t>();
  dropped_ = in.vec<std::uint8_t>();
  const std::string preprocessor = in.str();
  category_width_ = in.pod<std::int64_t>();
  category_ids_ = in.array<std::int64_t>();
  const std::string categories = in.str();
  if (width_ < 0 || category_width_ < 0 || values_.size() != samples * static_cast<std::size_t>(width_) ||
      present_.size() != samples || category_ids_.size() != samples * static_cast<std::size_t>(category_width_) ||
      (!dropped_.empty() && dropped_.size() != samples) || (width_ > 0) == preprocessor.empty() ||
      (category_width_ > 0) == categories.empty()) {
    in.inconsistent("numeric values");
  }
  preprocessor_.reset();
  categories_.reset();
  if (!preprocessor.empty()) {
    preprocessor_ = NumericPreprocessor::from_json(Config::parse(preprocessor, in.source()));
  }
  if (!categories.empty()) {
    categories_ = CategoryEncoder::from_json(Config::parse(categories, in.source()));
    if (categories_->names().size() != static_cast<std::size_t>(category_width_)) {
      in.inconsistent("category vocabularies");
    }
  }
}

}  // namespace finfuse::data
