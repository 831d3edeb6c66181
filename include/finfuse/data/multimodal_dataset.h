// The multimodal dataset: every assembled sample's inputs (price window, texts before the decision, numeric rows as
// of the decision), with text vocabulary and numeric preprocessing fitted on the training samples only, collated
// into batches of tensors.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/batch.h"
#include "finfuse/data/numeric_preprocessor.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/price_features.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/text_corpus.h"
#include "finfuse/data/tokenizer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::data {

/// The raw sources a dataset draws from. Not owned; they must outlive the build() call only.
struct DataSources {
  const PricePanel* prices = nullptr;
  const TextCorpus* texts = nullptr;
  /// Named numeric tables ("entity" tables are joined by the sample's entity, "global" ones by date alone).
  std::vector<std::pair<std::string, const NumericTable*>> tables;
};

struct DatasetOptions {
  /// Modalities to build: any of "price", "text", "numeric".
  std::vector<std::string> modalities = {"price"};
  PriceWindowOptions price;
  TokenizerOptions tokenizer;
  /// "per_text": [max_texts, max_length] token ids per sample (newest text first), for hierarchical text encoders;
  /// "concat": the texts joined, newest first, into one sequence of max_length.
  std::string text_layout = "per_text";
  std::int64_t max_texts = 10;
  NumericPreprocessorOptions numeric;

  static DatasetOptions from_config(const Config& config);
  Json to_json() const;
  bool uses(const std::string& modality) const;
};

class MultimodalDataset {
 public:
  /// Computes the inputs of every sample. The tokenizer's vocabulary and the numeric preprocessing are fitted on
  /// the samples listed in `train` only. Throws finfuse::Error when a requested modality's source is missing.
  static MultimodalDataset build(const SampleSet& samples, const DataSources& sources, const DatasetOptions& options,
                                 const std::vector<std::size_t>& train);

  std::size_t size() const { return samples_.size(); }
  const Sample& sample(std::size_t i) const { return samples_[i]; }
  const std::vector<std::string>& entities() const { return entities_; }
  const DatasetOptions& options() const { return options_; }

  /// Stacks the samples at `indices` into a batch.
  Batch collate(const std::vector<std::size_t>& indices) const;

  /// The fitted text tokenizer and numeric preprocessing, when those modalities are used.
  const std::optional<Tokenizer>& tokenizer() const { return tokenizer_; }
  const std::optional<NumericPreprocessor>& numeric_preprocessor() const { return preprocessor_; }
  /// Fraction of samples that have each modality.
  double coverage(const std::string& modality) const;

 private:
  DatasetOptions options_;
  std::vector<std::string> entities_;
  std::vector<Sample> samples_;
  std::int64_t price_window_ = 0;
  std::vector<float> price_;  // [N, L, 5]
  std::int64_t text_shape_ = 0;  // values per sample
  std::vector<std::int64_t> text_ids_;
  std::vector<std::uint8_t> text_mask_;
  std::vector<std::uint8_t> text_present_;
  std::int64_t numeric_width_ = 0;
  std::vector<float> numeric_values_;  // [N, F] after preprocessing
  std::vector<std::uint8_t> numeric_present_;
  std::optional<Tokenizer> tokenizer_;
  std::optional<NumericPreprocessor> preprocessor_;
};

}  // namespace finfuse::data
