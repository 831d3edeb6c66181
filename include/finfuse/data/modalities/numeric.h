// The "numeric" modality: every source table's numeric columns as of each decision (by entity, alone for global
// tables, by id for static ones), forward-filled from the entity's past, optionally transformed within each decision
// day, then imputed and scaled by preprocessing fitted on the training samples; the tables' categorical columns form
// a second batch entry, "categorical", with vocabularies fitted the same way.
#pragma once

#include "finfuse/data/category_encoder.h"
#include "finfuse/data/modality.h"
#include "finfuse/data/numeric_preprocessor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

class NumericModality : public Modality {
 public:
  /// Uses options.numeric, cross_section, forward_fill and category_min_frequency.
  explicit NumericModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;
  /// "numeric" [F] when the tables have numeric columns, "categorical" [C] when they have categorical ones.
  std::vector<ModalitySpec> specs() const override;
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override;
  double coverage() const override { return fraction_present(present_); }
  bool usable(std::size_t sample) const override { return dropped_.empty() || dropped_[sample] == 0; }
  /// {"numeric": ..., "categories": ...}, each where fitted.
  Json fitted_state() const override;
  void save(BinaryWriter& out) const override;
  void load(BinaryReader& in, const SampleList& samples) override;

  const std::optional<NumericPreprocessor>& preprocessor() const { return preprocessor_; }
  const std::optional<CategoryEncoder>& categories() const { return categories_; }

 private:
  NumericPreprocessorOptions options_;
  std::string cross_section_;
  bool forward_fill_ = true;
  std::int64_t category_min_frequency_ = 1;
  std::int64_t width_ = 0;
  // Views of the file when reopened from the dataset cache.
  SharedArray<float> values_;  // [N, F] after preprocessing
  SharedArray<std::uint8_t> present_;
  std::vector<std::uint8_t> dropped_;
  std::optional<NumericPreprocessor> preprocessor_;
  std::int64_t category_width_ = 0;
  SharedArray<std::int64_t> category_ids_;  // [N, C]
  std::optional<CategoryEncoder> categories_;
};

}  // namespace finfuse::data
