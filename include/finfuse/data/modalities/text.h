// The "text" modality: the texts an entity had before each decision (from the text corpus, newest first) or one text
// per sample from a table's text column, as token ids of a WordPiece vocabulary fitted on the texts that training
// samples see. Layout "per_text" gives [max_texts, max_length] ids per sample, "concat" one sequence [max_length].
#pragma once

#include "finfuse/core/default_init_allocator.h"
#include "finfuse/data/modality.h"
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
  double coverage() const override { return fraction_present(present_); }
  /// {"tokenizer": ...}
  Json fitted_state() const override;
  void save(BinaryWriter& out) const override;
  void load(BinaryReader& in, std::size_t samples) override;

  /// The fitted tokenizer (set once built).
  const std::optional<Tokenizer>& tokenizer() const { return tokenizer_; }

 private:
  std::vector<std::int64_t> sample_shape() const;

  TextTableOptions table_;
  TokenizerOptions tokenizer_options_;
  bool per_text_ = true;
  std::int64_t max_texts_ = 10;
  std::int64_t shape_ = 0;                 // ids per sample
  UninitializedVector<std::int32_t> ids_;  // widened to int64 in collate()
  UninitializedVector<std::uint8_t> mask_;
  std::vector<std::uint8_t> present_;
  std::optional<Tokenizer> tokenizer_;
};

}  // namespace finfuse::data
