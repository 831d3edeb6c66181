// The text modality: each sample's texts before its decision, each distinct text tokenized once, with the vocabulary
// fitted on the texts training samples see.
#include "finfuse/data/modalities/text.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <unordered_map>

namespace finfuse::data {

TextModality::TextModality(const DatasetOptions& options)
    : Modality("text"),
      table_(options.text_table),
      tokenizer_options_(options.tokenizer),
      per_text_(options.text_layout == "per_text"),
      max_texts_(options.max_texts) {}

void TextModality::build(const ModalityContext& context) {
  const std::size_t n = context.size();
  const auto max_texts = static_cast<std::size_t>(max_texts_);
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::vector<const TextRecord*>> windows(n);
  std::vector<TextRecord> table_texts;
  if (table_.table.empty()) {
    FINFUSE_CHECK(context.sources.texts != nullptr, "the 'text' modality needs a text corpus (or dataset.text_table)");
    context.require_timed("text");
    at::parallel_for(0, static_cast<std::int64_t>(n), 1024, [&](std::int64_t begin, std::int64_t end) {
      for (auto k = begin; k < end; ++k) {
        const auto i = static_cast<std::size_t>(k);
        const Sample& s = context.sample(i);
        windows[i] = context.sources.texts->window(context.entity(i), s.text_start, s.text_cutoff, max_texts);
      }
    });
  } else {
    // One text per sample from a table's text column, the row joined like the numeric modality's.
    const NumericTable& table = context.table(table_.table, "text");
    const auto column = table.text_column_index(table_.column);
    FINFUSE_CHECK(column.has_value(), "column '", table_.column, "' of table '", table_.table,
                  "' is not one of its text_columns ", quoted_list(table.text_columns()));
    table_texts.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto row = context.joined_row(table, i);
      if (row && !table.text(*row, *column).empty()) {
        table_texts[i].text = table.text(*row, *column);
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
  for (auto i : context.train) {
    for (auto slot = offset[i]; slot < offset[i + 1]; ++slot) {
      if (in_training[slot_text[slot]] == 0) {
        in_training[slot_text[slot]] = 1;
        training_texts.emplace_back(distinct[slot_text[slot]]->text);
      }
    }
  }
  if (context.fitted != nullptr) {
    tokenizer_ = context.fitted->tokenizer();
    FINFUSE_CHECK(tokenizer_.has_value(), "the 'text' modality needs the model's fitted tokenizer");
  } else {
    tokenizer_ = Tokenizer::create(tokenizer_options_, std::move(training_texts));
  }
  const auto length = static_cast<std::size_t>(tokenizer_options_.max_length);
  shape_ = static_cast<std::int64_t>(per_text_ ? max_texts * length : length);
  FINFUSE_CHECK(tokenizer_->vocab_size() <= std::numeric_limits<std::int32_t>::max(), "a vocabulary of ",
                tokenizer_->vocab_size(), " tokens does not fit 32-bit token ids");
  const auto shape = static_cast<std::size_t>(shape_);
  const auto pad = static_cast<std::int32_t>(tokenizer_->pad_id());
  // Every element is written once by the parallel loops below (ids, padding and mask of each row), so the 40-odd
  // MB are first touched on every thread rather than zero-filled serially and written again.
  ids_.resize(n * shape);
  mask_.resize(ids_.size());
  present_.resize(n);
  // Writes `count` ids to row `base` of the token-id table and pads the rest of the row's `width` slots.
  const auto put = [&](std::size_t base, std::size_t width, const std::int32_t* ids, std::size_t count) {
    std::copy_n(ids, count, ids_.data() + base);
    std::fill_n(ids_.data() + base + count, width - count, pad);
    std::fill_n(mask_.data() + base, count, std::uint8_t{1});
    std::fill_n(mask_.data() + base + count, width - count, std::uint8_t{0});
  };
  if (per_text_) {
    // Encode each distinct text once, on every intra-op thread, then copy into the windows.
    UninitializedVector<std::int32_t> encoded(distinct.size() * length);
    UninitializedVector<std::int32_t> encoded_length(distinct.size());
    at::parallel_for(0, static_cast<std::int64_t>(distinct.size()), 512, [&](std::int64_t begin, std::int64_t end) {
      for (auto t = begin; t < end; ++t) {
        const auto d = static_cast<std::size_t>(t);
        encoded_length[d] =
            static_cast<std::int32_t>(tokenizer_->encode_into(distinct[d]->text, encoded.data() + d * length));
      }
    });
    at::parallel_for(0, static_cast<std::int64_t>(n), 256, [&](std::int64_t begin, std::int64_t end) {
      for (auto s = begin; s < end; ++s) {
        const auto i = static_cast<std::size_t>(s);
        present_[i] = windows[i].empty() ? 0 : 1;
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
        present_[i] = texts.empty() ? 0 : 1;
        joined.clear();
        for (const auto* text : texts) {
          joined += text->text;
          joined += '\n';
        }
        const auto count = texts.empty() ? 0 : tokenizer_->encode_into(joined, ids.data());
        put(i * shape, length, ids.data(), static_cast<std::size_t>(count));
      }
    });
  }
  logger()->debug("dataset: {} distinct texts tokenized in {:.3f} s", distinct.size(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

std::vector<std::int64_t> TextModality::sample_shape() const {
  if (per_text_) {
    return {max_texts_, tokenizer_options_.max_length};
  }
  return {shape_};
}

std::vector<ModalitySpec> TextModality::specs() const {
  ModalitySpec spec(name(), sample_shape(), tokenizer_ ? tokenizer_->vocab_size() : 0);
  if (tokenizer_) {
    spec.vocabulary = std::make_shared<const std::vector<std::string>>(tokenizer_->tokens());
  }
  return {spec};
}

void TextModality::collate(const std::vector<std::size_t>& indices, Batch& batch) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  std::vector<std::int64_t> shape = sample_shape();
  shape.insert(shape.begin(), b);
  torch::Tensor ids = torch::empty(shape, torch::kInt64);
  torch::Tensor mask = torch::empty(shape, torch::kBool);
  std::int64_t* id_dst = ids.data_ptr<std::int64_t>();
  bool* mask_dst = mask.data_ptr<bool>();
  for (std::int64_t k = 0; k < b; ++k) {
    const std::size_t base = indices[static_cast<std::size_t>(k)] * static_cast<std::size_t>(shape_);
    for (std::int64_t j = 0; j < shape_; ++j) {
      id_dst[k * shape_ + j] = ids_[base + static_cast<std::size_t>(j)];
      mask_dst[k * shape_ + j] = mask_[base + static_cast<std::size_t>(j)] != 0;
    }
  }
  batch.modalities[name()] = ModalityBatch{ids, mask, gather_presence(&present_, indices)};
}

Json TextModality::fitted_state() const {
  Json out = Json::object();
  if (tokenizer_) {
    out["tokenizer"] = tokenizer_->to_json();
  }
  return out;
}

void TextModality::save(BinaryWriter& out) const {
  out.pod(shape_);
  out.vec(ids_);
  out.vec(mask_);
  out.vec(present_);
  out.str(tokenizer_ ? tokenizer_->to_json().dump() : std::string());
}

void TextModality::load(BinaryReader& in, std::size_t samples) {
  shape_ = in.pod<std::int64_t>();
  ids_ = in.vec<std::int32_t, DefaultInitAllocator<std::int32_t>>();
  mask_ = in.vec<std::uint8_t, DefaultInitAllocator<std::uint8_t>>();
  present_ = in.vec<std::uint8_t>();
  const std::string state = in.str();
  if (state.empty() || shape_ < 0 || ids_.size() != samples * static_cast<std::size_t>(shape_) ||
      mask_.size() != ids_.size() || present_.size() != samples) {
    in.inconsistent("text tokens");
  }
  tokenizer_ = Tokenizer::from_json(Config::parse(state, in.source()));
}

}  // namespace finfuse::data
