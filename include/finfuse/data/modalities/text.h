// The "text" modality: the texts an entity had before each decision (from the text corpus, newest first) or one text
// per sample from a table's text column, as token ids of a WordPiece vocabulary fitted on the texts that training
// samples see. Layout "per_text" gives [max_texts, max_length] ids per sample, "concat" one sequence [max_length].
#pragma once

#include "finfuse/core/default_init_allocator.h"
#include "finfuse/data/modality.h"
#include "finfuse/data/packed_offsets.h"
#include "finfuse/data/tokenizer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

class TextModality : public Modality {
 public:
  /// Uses options.text_table, tokenizer, text_layout and max_texts.
  explicit TextModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;
  std::vector<ModalitySpec> specs() const override;
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override;
  /// The fraction of samples with at least one text.
  double coverage() const override;
  /// {"tokenizer": ...}
  Json fitted_state() const override;
  void save(BinaryWriter& out) const override;
  void load(BinaryReader& in, const SampleList& samples) override;

  /// The fitted tokenizer (set once built).
  const std::optional<Tokenizer>& tokenizer() const { return tokenizer_; }

 private:
  std::vector<std::int64_t> sample_shape() const;

  TextTableOptions table_;
  TokenizerOptions tokenizer_options_;
  bool per_text_ = true;
  std::int64_t max_texts_ = 10;
  std::int64_t shape_ = 0;  // ids per sample
  // Token ids kept once per distinct text (per_text: a tweet sits in the windows of several days' samples) or per
  // sample (concat: its texts joined), and a list of rows per sample; collate() pads and masks them into [B, ...].
  std::int64_t length_ = 0;  // at most this many ids a row (the tokenizer's max_length)
  // Views of the file when reopened from the dataset cache.
  // Every row's ids one after another, widened to int64 in collate(): 16-bit while the vocabulary has at most 65,536
  // ids (narrow_), else 32-bit; the other array is empty.
  static constexpr std::int64_t kNarrowIds = 65536;
  bool narrow_ = true;
  SharedArray<std::uint16_t> ids16_;
  SharedArray<std::int32_t> ids32_;
  PackedOffsets tokens_;           // row r's ids: tokens_.count(r) of them from ids[tokens_.begin(r)]
  PackedOffsets windows_;          // sample i's rows: windows_.count(i) of them from rows_[windows_.begin(i)]
  SharedArray<std::int32_t> rows_;  // row indices into tokens_, newest text first
  std::optional<Tokenizer> tokenizer_;
};

}  // namespace finfuse::data
