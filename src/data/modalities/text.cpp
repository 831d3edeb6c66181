// The text modality: each sample's texts before its decision, each distinct text tokenized once, with the vocabulary
// fitted on the texts training samples see.
#include "finfuse/data/modalities/text.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/runtime.h"
#include "finfuse/core/suggest.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string_view>
#include <unordered_map>

namespace finfuse::data {
namespace {

// Window sizes in place of [1, n] turned into where each window starts (its running sum), refused past 32 bits.
void text_window_offsets(std::vector<std::int32_t>& offset) {
  std::int64_t total = 0;
  for (auto& value : offset) {
    total += value;
    FINFUSE_CHECK(total <= std::numeric_limits<std::int32_t>::max(),
                  "the samples' text windows hold more than 2^31 texts in all (32-bit offsets); lower max_texts or "
                  "text.lookback_days");
    value = static_cast<std::int32_t>(total);
  }
}

}  // namespace

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
  // the texts to encode, each once (a tweet sits in the windows of several days' samples). A text of the corpus is
  // known by its number: its place among its entity's texts, counted on from first_number[entity]; a table's text
  // by the sample it belongs to.
  std::vector<std::int32_t> offset(n + 1, 0);
  UninitializedVector<std::int32_t> text_rows;
  std::vector<std::int32_t> distinct;
  std::vector<const std::vector<TextRecord>*> entity_texts;
  std::vector<std::size_t> first_number;
  std::vector<std::string_view> table_texts;
  // The row of each text of the corpus, by its number (-1: in no window).
  std::vector<std::int32_t> row_of_text;
  // A corpus read by TextCorpus::load_times holds no texts: they are read again from its file, in file order, to fit
  // the vocabulary and to encode them.
  const bool streamed = table_.table.empty() && context.sources.texts != nullptr && !context.sources.texts->holds_texts();
  FINFUSE_CHECK(!streamed || per_text_, "the text layout 'concat' needs a text corpus that holds its texts (TextCorpus::load)");
  if (table_.table.empty()) {
    FINFUSE_CHECK(context.sources.texts != nullptr, "the 'text' modality needs a text corpus (or dataset.text_table)");
    context.require_timed("text");
    const TextCorpus& corpus = *context.sources.texts;
    const auto& entities = context.samples.entities;
    entity_texts.resize(entities.size());
    first_number.assign(entities.size() + 1, 0);
    for (std::size_t e = 0; e < entities.size(); ++e) {
      entity_texts[e] = &corpus.texts(entities[e]);
      first_number[e + 1] = first_number[e] + entity_texts[e]->size();
    }
    FINFUSE_CHECK(first_number.back() <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                  "more texts than 32-bit row indices hold: ", first_number.back());
    // Each sample's window is found twice on every intra-op thread: first its size, so that the flat array takes its
    // room once, then the numbers of its texts, newest first, in that room.
    const auto span_of = [&](std::size_t i) {
      const Sample& s = context.sample(i);
      return TextCorpus::window_span(*entity_texts[static_cast<std::size_t>(s.entity)], s.text_start(),
                                     s.text_cutoff(), max_texts);
    };
    at::parallel_for(0, static_cast<std::int64_t>(n), 4096, [&](std::int64_t begin, std::int64_t end) {
      for (auto k = begin; k < end; ++k) {
        const auto i = static_cast<std::size_t>(k);
        offset[i + 1] = static_cast<std::int32_t>(span_of(i).size());  // at most the entity's texts, checked above
      }
    });
    text_window_offsets(offset);
    text_rows.resize(static_cast<std::size_t>(offset[n]));
    at::parallel_for(0, static_cast<std::int64_t>(n), 4096, [&](std::int64_t begin, std::int64_t end) {
      for (auto k = begin; k < end; ++k) {
        const auto i = static_cast<std::size_t>(k);
        const auto span = span_of(i);
        const std::size_t base = first_number[static_cast<std::size_t>(context.samples.samples.entity(i))];
        auto slot = static_cast<std::size_t>(offset[i]);
        for (std::size_t place = span.last; place > span.first; --place) {
          text_rows[slot++] = static_cast<std::int32_t>(base + place - 1);
        }
      }
    });
    // The windows are found: a streamed corpus's times can go (24 bytes a text) when nothing after this modality
    // reads them, and the windows' starts give way to their counts (a byte a sample), before the rows are numbered.
    if (streamed && context.sources.texts_to_release != nullptr) {
      FINFUSE_CHECK(context.sources.texts_to_release == context.sources.texts,
                    "the text corpus to release is not the sources' text corpus");
      context.sources.texts_to_release->release_times();
    }
    if (per_text_) {
      windows_ = PackedOffsets::from_starts(offset);
      offset = std::vector<std::int32_t>();
    }
    return_freed_memory();
    // Rows numbered in sample order: a text's row is the order in which the samples first see it.
    row_of_text.assign(first_number.back(), -1);
    distinct.reserve(first_number.back());
    for (auto& slot : text_rows) {
      std::int32_t& row = row_of_text[static_cast<std::size_t>(slot)];
      if (row < 0) {
        row = static_cast<std::int32_t>(distinct.size());
        distinct.push_back(slot);
      }
      slot = row;
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
        table_texts[i] = table.text(*row, *column);
        text_rows.push_back(static_cast<std::int32_t>(distinct.size()));
        distinct.push_back(static_cast<std::int32_t>(i));
      }
      offset[i + 1] = static_cast<std::int32_t>(text_rows.size());
    }
    text_rows.shrink_to_fit();
  }
  distinct.shrink_to_fit();
  if (!streamed) {
    row_of_text = std::vector<std::int32_t>();  // `= {}` would keep its room: it assigns an empty list
  }
  // A streamed corpus's texts are known by their entity's records: the number of the entity's first text.
  std::unordered_map<const std::vector<TextRecord>*, std::size_t> base_of;
  if (streamed) {
    for (std::size_t e = 0; e < entity_texts.size(); ++e) {
      if (first_number[e + 1] > first_number[e]) {  // its records are empty once the times are let go
        base_of.emplace(entity_texts[e], first_number[e]);
      }
    }
  }
  // The rows of a block of streamed texts (-1: in no window, or an entity without samples).
  const auto rows_of_block = [&](const std::vector<TextCorpus::PlacedText>& block, std::vector<std::int32_t>& rows) {
    rows.resize(block.size());
    for (std::size_t k = 0; k < block.size(); ++k) {
      const auto base = base_of.find(block[k].records);
      rows[k] = base == base_of.end() ? -1 : row_of_text[base->second + block[k].place];
    }
  };
  // Calls visit(row, text, scratch) for every streamed text that has a row, a block of texts at a time on every
  // intra-op thread (scratch: room for max_length ids, one per thread), reading the corpus's file again.
  const auto for_each_streamed_row = [&](const auto& visit) {
    std::vector<std::int32_t> rows;
    context.sources.texts->for_each_text([&](const std::vector<TextCorpus::PlacedText>& block) {
      rows_of_block(block, rows);
      at::parallel_for(0, static_cast<std::int64_t>(block.size()), 64, [&](std::int64_t begin, std::int64_t end) {
        std::vector<std::int32_t> scratch(static_cast<std::size_t>(tokenizer_options_.max_length));
        for (auto k = begin; k < end; ++k) {
          const auto row = rows[static_cast<std::size_t>(k)];
          if (row >= 0) {
            visit(static_cast<std::size_t>(row), block[static_cast<std::size_t>(k)].text, scratch.data());
          }
        }
      });
    });
  };
  // The text of distinct[d].
  const auto text_of = [&](std::size_t d) -> std::string_view {
    const auto number = static_cast<std::size_t>(distinct[d]);
    if (!table_.table.empty()) {
      return table_texts[number];
    }
    const auto e = static_cast<std::size_t>(std::upper_bound(first_number.begin(), first_number.end(), number) -
                                            first_number.begin() - 1);
    return (*entity_texts[e])[number - first_number[e]].text;
  };
  const auto window_size = [](const std::vector<std::int32_t>& offsets, std::size_t i) {
    return static_cast<std::size_t>(offsets[i + 1] - offsets[i]);
  };
  // The vocabulary sees each text once, and only texts that training samples could see.
  std::vector<char> in_training(distinct.size(), 0);
  std::vector<std::string_view> training_texts;
  for (auto i : context.train) {
    const std::size_t first = offset.empty() ? windows_.begin(i) : static_cast<std::size_t>(offset[i]);
    const std::size_t count = offset.empty() ? windows_.count(i) : static_cast<std::size_t>(offset[i + 1] - offset[i]);
    for (std::size_t slot = first; slot < first + count; ++slot) {
      const auto d = static_cast<std::size_t>(text_rows[slot]);
      if (in_training[d] == 0) {
        in_training[d] = 1;
        if (!streamed) {
          training_texts.emplace_back(text_of(d));
        }
      }
    }
  }
  if (per_text_ && !offset.empty()) {
    // A table's texts: the windows' starts give way to their counts before the ids take their room.
    windows_ = PackedOffsets::from_starts(offset);
    offset = std::vector<std::int32_t>();
  }
  if (context.fitted != nullptr) {
    tokenizer_ = context.fitted->tokenizer();
    FINFUSE_CHECK(tokenizer_.has_value(), "the 'text' modality needs the model's fitted tokenizer");
  } else if (streamed) {
    // The training texts' words counted a block at a time as the file is read again.
    WordCounts counts(tokenizer_options_);
    const bool needs_counts = tokenizer_options_.kind != "wordpiece" || tokenizer_options_.vocab_file.empty();
    if (needs_counts) {
      std::vector<std::string_view> block_texts;
      std::vector<std::int32_t> rows;
      context.sources.texts->for_each_text([&](const std::vector<TextCorpus::PlacedText>& block) {
        rows_of_block(block, rows);
        block_texts.clear();
        for (std::size_t k = 0; k < block.size(); ++k) {
          if (rows[k] >= 0 && in_training[static_cast<std::size_t>(rows[k])] != 0) {
            block_texts.push_back(block[k].text);
          }
        }
        counts.add(std::move(block_texts));
        block_texts.clear();
      });
    }
    tokenizer_ = Tokenizer::create(tokenizer_options_, counts);
  } else {
    tokenizer_ = Tokenizer::create(tokenizer_options_, std::move(training_texts));
  }
  in_training = std::vector<char>();
  const auto length = static_cast<std::size_t>(tokenizer_options_.max_length);
  shape_ = static_cast<std::int64_t>(per_text_ ? max_texts * length : length);
  length_ = static_cast<std::int64_t>(length);
  FINFUSE_CHECK(tokenizer_->vocab_size() <= std::numeric_limits<std::int32_t>::max(), "a vocabulary of ",
                tokenizer_->vocab_size(), " tokens does not fit 32-bit token ids");
  // The rows' ids one after another: row r's are tokens_.count(r) ids from ids[tokens_.begin(r)], so that a row takes
  // the room of its ids rather than of max_length, 16-bit ones while the vocabulary allows. Each row is encoded twice
  // on every intra-op thread, first for its length, so that the ids take their room once. `text_for(item, joined)`
  // gives item's text (assembled in `joined` where it must be), `row_of(item)` its row (negative: none).
  narrow_ = tokenizer_->vocab_size() <= kNarrowIds;
  std::vector<std::int32_t> token_count;
  UninitializedVector<std::uint16_t> ids16;
  UninitializedVector<std::int32_t> ids32;
  // Row r's ids: on the first pass their count goes to token_count[r], on the second (place) into their room.
  const auto encode_row = [&](bool place, std::size_t r, std::string_view text, std::int32_t* ids) {
    const std::int64_t used = tokenizer_->encode_into(text, ids);
    if (!place) {
      token_count[r] = static_cast<std::int32_t>(used);  // at most max_length
      return;
    }
    FINFUSE_CHECK(used == tokens_.count(r), "the tokenizer gave ", used, " ids for text row ", r, " where it gave ",
                  tokens_.count(r), " before");
    const std::uint64_t begin = tokens_.begin(r);
    if (narrow_) {
      std::transform(ids, ids + used, ids16.data() + begin,
                     [](std::int32_t id) { return static_cast<std::uint16_t>(id); });
    } else {
      std::copy_n(ids, used, ids32.data() + begin);
    }
  };
  // The counts packed (a byte a row) before the ids take their room.
  const auto make_room = [&] {
    tokens_ = PackedOffsets::from_counts(token_count);
    token_count = std::vector<std::int32_t>();
    if (narrow_) {
      ids16.resize(static_cast<std::size_t>(tokens_.total()));
    } else {
      ids32.resize(static_cast<std::size_t>(tokens_.total()));
    }
  };
  const auto encode_rows = [&](std::size_t items, std::size_t rows, std::int64_t grain, const auto& row_of,
                               const auto& text_for) {
    token_count.assign(rows, 0);
    for (const bool place : {false, true}) {
      at::parallel_for(0, static_cast<std::int64_t>(items), grain, [&](std::int64_t begin, std::int64_t end) {
        std::vector<std::int32_t> ids(length);
        std::string joined;
        for (auto item = begin; item < end; ++item) {
          const std::int64_t row = row_of(static_cast<std::size_t>(item));
          if (row >= 0) {
            encode_row(place, static_cast<std::size_t>(row), text_for(static_cast<std::size_t>(item), joined),
                       ids.data());
          }
        }
      });
      if (!place) {
        make_room();
      }
    }
  };
  const std::size_t distinct_texts = distinct.size();
  if (streamed) {
    // Each distinct text encoded once, as the corpus's file is read again (twice: counts, then ids).
    token_count.assign(distinct.size(), 0);
    distinct = std::vector<std::int32_t>();  // the streamed texts find their rows through row_of_text
    return_freed_memory();
    for (const bool place : {false, true}) {
      for_each_streamed_row(
          [&](std::size_t row, std::string_view text, std::int32_t* ids) { encode_row(place, row, text, ids); });
      if (!place) {
        make_room();
      }
    }
    row_of_text = std::vector<std::int32_t>();
  } else if (per_text_) {
    // Each distinct text encoded once; a sample keeps the rows of its window's texts.
    encode_rows(
        distinct.size(), distinct.size(), 512, [](std::size_t d) { return static_cast<std::int64_t>(d); },
        [&](std::size_t d, std::string&) { return text_of(d); });
  } else {
    // One row per sample with texts: its window joined, newest first. The windows' texts move to `slot_offset` and
    // `slot_rows`; offset and text_rows become the samples' rows.
    const std::vector<std::int32_t> slot_offset = std::move(offset);
    const UninitializedVector<std::int32_t> slot_rows = std::move(text_rows);
    // Sample i's row, when it has texts, is offset[i]: the number of samples with texts before it (at most n, which
    // fits 32 bits as the window offsets did).
    offset.assign(n + 1, 0);
    std::int32_t rows = 0;
    for (std::size_t i = 0; i < n; ++i) {
      rows += window_size(slot_offset, i) == 0 ? 0 : 1;
      offset[i + 1] = rows;
    }
    text_rows.clear();  // moved from above
    text_rows.resize(static_cast<std::size_t>(rows));
    for (std::size_t i = 0; i < n; ++i) {
      if (window_size(offset, i) != 0) {
        text_rows[static_cast<std::size_t>(offset[i])] = offset[i];
      }
    }
    encode_rows(
        n, static_cast<std::size_t>(rows), 256,
        [&](std::size_t i) { return window_size(offset, i) != 0 ? std::int64_t{offset[i]} : std::int64_t{-1}; },
        [&](std::size_t i, std::string& joined) -> std::string_view {
          joined.clear();
          for (auto j = slot_offset[i]; j < slot_offset[i + 1]; ++j) {
            joined += text_of(static_cast<std::size_t>(slot_rows[static_cast<std::size_t>(j)]));
            joined += '\n';
          }
          return joined;
        });
  }
  if (!per_text_) {
    windows_ = PackedOffsets::from_starts(offset);
  }
  ids16_ = std::move(ids16);
  ids32_ = std::move(ids32);
  rows_ = std::move(text_rows);
  const std::size_t bytes =
      ids16_.size() * 2 + ids32_.size() * 4 + tokens_.bytes() + windows_.bytes() + rows_.size() * 4;
  logger()->info("text: {} distinct text(s) of {} token id(s) ({}-bit), {} text(s) in the samples' windows; {:.1f} MB in "
                 "{:.1f} s",
                 distinct_texts, tokens_.total(), narrow_ ? 16 : 32, rows_.size(), static_cast<double>(bytes) / 1e6,
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
  const auto pad = static_cast<std::int64_t>(tokenizer_->pad_id());
  const auto length = static_cast<std::size_t>(length_);
  const std::size_t slots = static_cast<std::size_t>(shape_) / length;
  for (std::int64_t k = 0; k < b; ++k) {
    const std::size_t i = indices[static_cast<std::size_t>(k)];
    const auto first = static_cast<std::size_t>(windows_.begin(i));
    const std::size_t count = windows_.count(i);
    std::int64_t* id_row = id_dst + k * shape_;
    bool* mask_row = mask_dst + k * shape_;
    for (std::size_t slot = 0; slot < slots; ++slot) {
      std::size_t used = 0;
      if (slot < count) {
        const auto row = static_cast<std::size_t>(rows_[first + slot]);
        const auto begin = static_cast<std::size_t>(tokens_.begin(row));
        used = tokens_.count(row);
        if (narrow_) {
          std::copy_n(ids16_.data() + begin, used, id_row + slot * length);
        } else {
          std::copy_n(ids32_.data() + begin, used, id_row + slot * length);
        }
      }
      std::fill_n(id_row + slot * length + used, length - used, pad);
      std::fill_n(mask_row + slot * length, used, true);
      std::fill_n(mask_row + slot * length + used, length - used, false);
    }
  }
  torch::Tensor present = torch::empty({b}, torch::kBool);
  bool* present_dst = present.data_ptr<bool>();
  for (std::int64_t k = 0; k < b; ++k) {
    const std::size_t i = indices[static_cast<std::size_t>(k)];
    present_dst[k] = windows_.count(i) > 0;
  }
  batch.modalities[name()] = ModalityBatch{ids, mask, present};
}

double TextModality::coverage() const {
  if (windows_.items() == 0) {
    return 0.0;
  }
  std::size_t with_texts = 0;
  for (std::size_t i = 0; i < windows_.items(); ++i) {
    with_texts += windows_.count(i) > 0 ? 1 : 0;
  }
  return static_cast<double>(with_texts) / static_cast<double>(windows_.items());
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
  out.pod<std::uint8_t>(narrow_ ? 16 : 32);
  out.vec(ids16_);
  out.vec(ids32_);
  tokens_.save(out);
  windows_.save(out);
  out.vec(rows_);
  out.str(tokenizer_ ? tokenizer_->to_json().dump() : std::string());
}

void TextModality::load(BinaryReader& in, const SampleList& list) {
  const std::size_t samples = list.size();
  shape_ = in.pod<std::int64_t>();
  length_ = in.pod<std::int64_t>();
  const auto id_bits = in.pod<std::uint8_t>();
  narrow_ = id_bits == 16;
  ids16_ = in.array<std::uint16_t>();
  ids32_ = in.array<std::int32_t>();
  if (length_ <= 0 || shape_ < length_ || shape_ % length_ != 0) {
    in.inconsistent("text tokens (their shape)");
  }
  tokens_ = PackedOffsets::load(in, static_cast<std::uint64_t>(length_), "text tokens");
  windows_ = PackedOffsets::load(in, static_cast<std::uint64_t>(shape_ / length_), "text windows");
  rows_ = in.array<std::int32_t>();
  const std::string state = in.str();
  const std::size_t rows = tokens_.items();
  const std::size_t ids = narrow_ ? ids16_.size() : ids32_.size();
  bool consistent = !state.empty() && (id_bits == 16 || id_bits == 32) && (narrow_ ? ids32_.empty() : ids16_.empty()) &&
                    tokens_.total() == ids && windows_.items() == samples && windows_.total() == rows_.size();
  for (std::size_t k = 0; consistent && k < rows_.size(); ++k) {
    consistent = rows_[k] >= 0 && static_cast<std::size_t>(rows_[k]) < rows;
  }
  if (!consistent) {
    in.inconsistent("text tokens");
  }
  tokenizer_ = Tokenizer::from_json(Config::parse(state, in.source()));
  if (narrow_ && tokenizer_->vocab_size() > kNarrowIds) {
    in.inconsistent(fmt::format("text tokens (16-bit ids for a vocabulary of {})", tokenizer_->vocab_size()));
  }
}

}  // namespace finfuse::data
