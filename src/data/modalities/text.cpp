// The text modality: each sample's texts before its decision, each distinct text tokenized once, with the vocabulary
// fitted on the texts training samples see.
#include "finfuse/data/modalities/text.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

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
  // Sample i's texts are text_rows[offset[i] .. offset[i + 1]), newest first: one flat array of rows into `distinct`,
  // each text once (a tweet sits in the windows of several days' samples).
  std::vector<std::int64_t> offset(n + 1, 0);
  UninitializedVector<std::int32_t> text_rows;
  std::vector<const TextRecord*> distinct;
  std::vector<TextRecord> table_texts;
  if (table_.table.empty()) {
    FINFUSE_CHECK(context.sources.texts != nullptr, "the 'text' modality needs a text corpus (or dataset.text_table)");
    context.require_timed("text");
    const TextCorpus& corpus = *context.sources.texts;
    // A text is numbered by its place in the corpus (each entity's texts are one array, numbered one entity after
    // another), so a dense array rather than a hash map finds the row of a text seen before.
    const auto& entities = context.samples.entities;
    std::vector<const TextRecord*> base(entities.size());
    std::vector<std::size_t> first_number(entities.size() + 1, 0);
    for (std::size_t e = 0; e < entities.size(); ++e) {
      const auto& all = corpus.texts(entities[e]);
      base[e] = all.data();
      first_number[e + 1] = first_number[e] + all.size();
    }
    FINFUSE_CHECK(first_number.back() <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                  "more texts than 32-bit row indices hold: ", first_number.back());
    std::vector<std::int32_t> row_of_text(first_number.back(), -1);
    // Windows are looked up on every intra-op thread a block of samples at a time, then numbered in sample order.
    constexpr std::size_t kBlock = std::size_t{1} << 16;
    std::vector<std::vector<const TextRecord*>> block(std::min(kBlock, n));
    for (std::size_t first = 0; first < n; first += kBlock) {
      const std::size_t count = std::min(kBlock, n - first);
      at::parallel_for(0, static_cast<std::int64_t>(count), 1024, [&](std::int64_t begin, std::int64_t end) {
        for (auto k = begin; k < end; ++k) {
          const auto i = first + static_cast<std::size_t>(k);
          const Sample& s = context.sample(i);
          block[static_cast<std::size_t>(k)] = corpus.window(context.entity(i), s.text_start(), s.text_cutoff(), max_texts);
        }
      });
      for (std::size_t k = 0; k < count; ++k) {
        const auto e = static_cast<std::size_t>(context.sample(first + k).entity);
        const auto start = reinterpret_cast<std::uintptr_t>(base[e]);
        for (const TextRecord* text : block[k]) {
          const auto address = reinterpret_cast<std::uintptr_t>(text);
          const std::size_t place = (address - start) / sizeof(TextRecord);
          FINFUSE_CHECK(address >= start && place < first_number[e + 1] - first_number[e], "a text in the window of sample ",
                        first + k, " is not one of its entity's texts");
          std::int32_t& row = row_of_text[first_number[e] + place];
          if (row < 0) {
            row = static_cast<std::int32_t>(distinct.size());
            distinct.push_back(text);
          }
          text_rows.push_back(row);
        }
        offset[first + k + 1] = static_cast<std::int64_t>(text_rows.size());
      }
    }
  } else {
    // One text per sample from a table's text column, the row joined like the numeric modality's.
    const NumericTable& table = context.table(table_.table, "text");
    const auto column = table.text_column_index(table_.column);
    FINFUSE_CHECK(column.has_value(), "column '", table_.column, "' of table '", table_.table,
                  "' is not one of its text_columns ", quoted_list(table.text_columns()));
    FINFUSE_CHECK(n <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                  "more texts than 32-bit row indices hold: ", n);
    table_texts.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto row = context.joined_row(table, i);
      if (row && !table.text(*row, *column).empty()) {
        table_texts[i].text = table.text(*row, *column);
        text_rows.push_back(static_cast<std::int32_t>(distinct.size()));
        distinct.push_back(&table_texts[i]);
      }
      offset[i + 1] = static_cast<std::int64_t>(text_rows.size());
    }
  }
  text_rows.shrink_to_fit();
  distinct.shrink_to_fit();
  const auto window_size = [](const std::vector<std::int64_t>& offsets, std::size_t i) {
    return static_cast<std::size_t>(offsets[i + 1] - offsets[i]);
  };
  // The vocabulary sees each text once, and only texts that training samples could see.
  std::vector<char> in_training(distinct.size(), 0);
  std::vector<std::string_view> training_texts;
  for (auto i : context.train) {
    for (auto slot = offset[i]; slot < offset[i + 1]; ++slot) {
      const auto d = static_cast<std::size_t>(text_rows[static_cast<std::size_t>(slot)]);
      if (in_training[d] == 0) {
        in_training[d] = 1;
        training_texts.emplace_back(distinct[d]->text);
      }
    }
  }
  in_training = {};
  if (context.fitted != nullptr) {
    tokenizer_ = context.fitted->tokenizer();
    FINFUSE_CHECK(tokenizer_.has_value(), "the 'text' modality needs the model's fitted tokenizer");
  } else {
    tokenizer_ = Tokenizer::create(tokenizer_options_, std::move(training_texts));
  }
  const auto length = static_cast<std::size_t>(tokenizer_options_.max_length);
  shape_ = static_cast<std::int64_t>(per_text_ ? max_texts * length : length);
  length_ = static_cast<std::int64_t>(length);
  FINFUSE_CHECK(tokenizer_->vocab_size() <= std::numeric_limits<std::int32_t>::max(), "a vocabulary of ",
                tokenizer_->vocab_size(), " tokens does not fit 32-bit token ids");
  std::vector<std::uint8_t> present(n);
  UninitializedVector<std::int32_t> encoded;
  UninitializedVector<std::int32_t> encoded_length;
  if (per_text_) {
    // Each distinct text encoded once, on every intra-op thread; a sample keeps the rows of its window's texts.
    encoded.resize(distinct.size() * length);
    encoded_length.resize(distinct.size());
    at::parallel_for(0, static_cast<std::int64_t>(distinct.size()), 512, [&](std::int64_t begin, std::int64_t end) {
      for (auto t = begin; t < end; ++t) {
        const auto d = static_cast<std::size_t>(t);
        encoded_length[d] = encode_row(distinct[d]->text, encoded.data() + d * length, length);
      }
    });
    for (std::size_t i = 0; i < n; ++i) {
      present[i] = window_size(offset, i) == 0 ? 0 : 1;
    }
  } else {
    // One row per sample with texts: its window joined, newest first. The windows' texts move to `slot_offset` and
    // `slot_rows`; offset and text_rows become the samples' rows.
    const std::vector<std::int64_t> slot_offset = std::move(offset);
    const UninitializedVector<std::int32_t> slot_rows = std::move(text_rows);
    // Sample i's row, when it has texts, is offset[i]: the number of samples with texts before it.
    offset.assign(n + 1, 0);
    std::size_t rows = 0;
    for (std::size_t i = 0; i < n; ++i) {
      present[i] = window_size(slot_offset, i) == 0 ? 0 : 1;
      rows += present[i];
      offset[i + 1] = static_cast<std::int64_t>(rows);
    }
    FINFUSE_CHECK(rows <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                  "more samples with texts than 32-bit row indices hold: ", rows);
    encoded.resize(rows * length);
    encoded_length.resize(rows);
    text_rows.clear();  // moved from above
    text_rows.resize(rows);
    at::parallel_for(0, static_cast<std::int64_t>(n), 256, [&](std::int64_t begin, std::int64_t end) {
      std::string joined;
      for (auto s = begin; s < end; ++s) {
        const auto i = static_cast<std::size_t>(s);
        if (window_size(slot_offset, i) == 0) {
          continue;
        }
        joined.clear();
        for (auto j = slot_offset[i]; j < slot_offset[i + 1]; ++j) {
          joined += distinct[static_cast<std::size_t>(slot_rows[static_cast<std::size_t>(j)])]->text;
          joined += '\n';
        }
        const auto row = static_cast<std::size_t>(offset[i]);
        text_rows[row] = static_cast<std::int32_t>(row);
        encoded_length[row] = encode_row(joined, encoded.data() + row * length, length);
      }
    });
  }
  encoded_ = std::move(encoded);
  encoded_length_ = std::move(encoded_length);
  offset_ = std::move(offset);
  rows_ = std::move(text_rows);
  present_ = std::move(present);
  logger()->debug("dataset: {} distinct texts tokenized in {:.3f} s", distinct.size(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

std::int32_t TextModality::encode_row(std::string_view text, std::int32_t* row, std::size_t length) const {
  const auto used = static_cast<std::size_t>(tokenizer_->encode_into(text, row));
  // The rest of the row is never read (collate() pads by the length), but zeroed: the cache file holds no stale memory.
  std::fill(row + used, row + length, 0);
  return static_cast<std::int32_t>(used);
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
  const auto pad = static_cast<std::int64_t>(tokenizer_->pad_id());
  const auto length = static_cast<std::size_t>(length_);
  const std::size_t slots = static_cast<std::size_t>(shape_) / length;
  for (std::int64_t k = 0; k < b; ++k) {
    const std::size_t i = indices[static_cast<std::size_t>(k)];
    const auto first = static_cast<std::size_t>(offset_[i]);
    const auto count = static_cast<std::size_t>(offset_[i + 1]) - first;
    std::int64_t* id_row = id_dst + k * shape_;
    bool* mask_row = mask_dst + k * shape_;
    for (std::size_t slot = 0; slot < slots; ++slot) {
      std::size_t used = 0;
      if (slot < count) {
        const auto row = static_cast<std::size_t>(rows_[first + slot]);
        used = static_cast<std::size_t>(encoded_length_[row]);
        std::copy_n(encoded_.data() + row * length, used, id_row + slot * length);
      }
      std::fill_n(id_row + slot * length + used, length - used, pad);
      std::fill_n(mask_row + slot * length, used, true);
      std::fill_n(mask_row + slot * length + used, length - used, false);
    }
  }
  batch.modalities[name()] = ModalityBatch{ids, mask, gather_presence(present_, indices)};
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
  out.pod(length_);
  out.vec(encoded_);
  out.vec(encoded_length_);
  out.vec(offset_);
  out.vec(rows_);
  out.vec(present_);
  out.str(tokenizer_ ? tokenizer_->to_json().dump() : std::string());
}

void TextModality::load(BinaryReader& in, std::size_t samples) {
  shape_ = in.pod<std::int64_t>();
  length_ = in.pod<std::int64_t>();
  encoded_ = in.array<std::int32_t>();
  encoded_length_ = in.array<std::int32_t>();
  offset_ = in.array<std::int64_t>();
  rows_ = in.array<std::int32_t>();
  present_ = in.array<std::uint8_t>();
  const std::string state = in.str();
  const auto rows = length_ > 0 ? encoded_.size() / static_cast<std::size_t>(length_) : 0;
  bool consistent = !state.empty() && length_ > 0 && shape_ >= length_ && shape_ % length_ == 0 &&
                    encoded_.size() == rows * static_cast<std::size_t>(length_) && encoded_length_.size() == rows &&
                    offset_.size() == samples + 1 && present_.size() == samples && offset_.front() == 0 &&
                    offset_.back() == static_cast<std::int64_t>(rows_.size());
  const auto slots = consistent ? shape_ / length_ : 0;
  for (std::size_t i = 0; consistent && i < samples; ++i) {
    const auto count = offset_[i + 1] - offset_[i];
    consistent = count >= 0 && count <= slots;
  }
  for (std::size_t k = 0; consistent && k < rows_.size(); ++k) {
    consistent = rows_[k] >= 0 && static_cast<std::size_t>(rows_[k]) < rows;
  }
  for (std::size_t r = 0; consistent && r < rows; ++r) {
    consistent = encoded_length_[r] >= 0 && encoded_length_[r] <= length_;
  }
  if (!consistent) {
    in.inconsistent("text tokens");
  }
  tokenizer_ = Tokenizer::from_json(Config::parse(state, in.source()));
}

}  // namespace finfuse::data
