// The multimodal dataset: every assembled sample's inputs (price window, texts before the decision, numeric rows as
// of the decision), with text vocabulary and numeric preprocessing fitted on the training samples only, collated
// into batches of tensors.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/default_init_allocator.h"
#include "finfuse/data/batch.h"
#include "finfuse/data/category_encoder.h"
#include "finfuse/data/chart_image.h"
#include "finfuse/data/numeric_preprocessor.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/price_features.h"
#include "finfuse/data/relation_graph.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/text_corpus.h"
#include "finfuse/data/tokenizer.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::data {

/// The raw sources a dataset draws from. Not owned; they must outlive the build() call only.
struct DataSources {
  const PricePanel* prices = nullptr;
  const TextCorpus* texts = nullptr;
  /// Named numeric tables: "entity" tables are joined as of the decision by the sample's entity, "global" ones as of
  /// the decision alone, "static" ones by the sample's entity id.
  std::vector<std::pair<std::string, const NumericTable*>> tables;
  /// Relations for graph kinds "edges" (edge lists, sector tables).
  const RelationGraph* graph = nullptr;
};

/// The relation graph attached to cross-sectional batches.
struct GraphOptions {
  /// "none", "edges" (the sources' relation graph as of each day) or "correlation" (rolling return correlation).
  std::string kind = "none";
  std::int64_t lookback = 60;
  double threshold = 0.5;

  static GraphOptions from_config(const Config& config);
  Json to_json() const;
};

/// Images read from files named in a table's path column (the row joined like the numeric modality's).
struct ImageOptions {
  std::string table;
  std::string column;
  /// 1 (grey) or 3 (RGB).
  std::int64_t channels = 3;
  /// Images are resized to this size.
  std::int64_t height = 64;
  std::int64_t width = 64;
  /// A referenced file that is missing or cannot be decoded: "error" (a DataError naming the table file, line and
  /// column) or "absent" (the sample lacks the modality; counted and logged).
  std::string on_missing = "error";

  static ImageOptions from_config(const Config& config);
  Json to_json() const;
};

/// The text modality from a table's text column (one text per sample: a news sentence, a loan description) instead of
/// the text corpus.
struct TextTableOptions {
  std::string table;
  std::string column;

  static TextTableOptions from_config(const Config& config);
  Json to_json() const;
};

struct DatasetOptions {
  /// Modalities to build: any of "price", "text", "numeric", "chart", "image". With "numeric", the tables'
  /// categorical columns form a further modality, "categorical" (ids, 0 = unknown).
  std::vector<std::string> modalities = {"price"};
  PriceWindowOptions price;
  ChartOptions chart;
  ImageOptions image;
  GraphOptions graph;
  TextTableOptions text_table;
  TokenizerOptions tokenizer;
  /// "per_text": [max_texts, max_length] token ids per sample (newest text first), for hierarchical text encoders;
  /// "concat": the texts joined, newest first, into one sequence of max_length.
  std::string text_layout = "per_text";
  std::int64_t max_texts = 10;
  NumericPreprocessorOptions numeric;
  /// "none", "zscore" or "rank": replace each numeric value by its z-score or percentile rank among the samples of
  /// the same decision day before the fitted preprocessing (needs no fitting, so it cannot leak).
  std::string cross_section = "none";
  /// A missing value in the as-of row takes the entity's latest earlier observation (past data only).
  bool forward_fill = true;
  /// Categories seen fewer times in training go to the unknown bucket.
  std::int64_t category_min_frequency = 1;

  static DatasetOptions from_config(const Config& config);
  Json to_json() const;
  bool uses(const std::string& modality) const;
};

/// The state a dataset fitted on its training samples, to be applied unchanged to new data (at inference).
struct FittedPreprocessing {
  std::optional<Tokenizer> tokenizer;
  std::optional<NumericPreprocessor> numeric;
  std::optional<CategoryEncoder> categories;

  Json to_json() const;
  /// ConfigError at the JSON path for malformed state.
  static FittedPreprocessing from_json(const Config& state);
};

class MultimodalDataset {
 public:
  /// Computes the inputs of every sample. The tokenizer's vocabulary and the numeric preprocessing are fitted on
  /// the samples listed in `train` only. Throws finfuse::Error when a requested modality's source is missing.
  static MultimodalDataset build(const SampleSet& samples, const DataSources& sources, const DatasetOptions& options,
                                 const std::vector<std::size_t>& train);
  /// The same for new data with preprocessing fitted elsewhere (a trained model's): nothing is fitted here. Throws
  /// finfuse::Error when a used modality's fitted state is missing or does not match the data's columns.
  static MultimodalDataset build(const SampleSet& samples, const DataSources& sources, const DatasetOptions& options,
                                 const FittedPreprocessing& fitted);
  /// The fitted tokenizer, numeric preprocessing and category encoder.
  FittedPreprocessing fitted() const;

  std::size_t size() const { return samples_.size(); }
  const Sample& sample(std::size_t i) const { return samples_[i]; }
  const std::vector<Sample>& samples() const { return samples_; }
  const std::vector<std::string>& entities() const { return entities_; }
  const DatasetOptions& options() const { return options_; }

  /// Stacks the samples at `indices` into a batch. Throws for a sample that is not usable().
  Batch collate(const std::vector<std::size_t>& indices) const;
  /// False for samples left out because a numeric value is missing and numeric.impute is "drop".
  bool usable(std::size_t i) const { return dropped_.empty() || dropped_[i] == 0; }
  /// `indices` without the samples that are not usable.
  std::vector<std::size_t> usable_only(const std::vector<std::size_t>& indices) const;

  /// The fitted text tokenizer and numeric preprocessing, when those modalities are used.
  const std::optional<Tokenizer>& tokenizer() const { return tokenizer_; }
  const std::optional<NumericPreprocessor>& numeric_preprocessor() const { return preprocessor_; }
  const std::optional<CategoryEncoder>& category_encoder() const { return categories_; }
  /// Fraction of samples that have each modality.
  double coverage(const std::string& modality) const;

  /// Every built input and fitted state as bytes, and back (for the on-disk cache). deserialize() throws a
  /// DataError naming `source` for truncated or inconsistent bytes.
  std::string serialize() const;
  static MultimodalDataset deserialize(std::string_view bytes, const std::string& source);

 private:
  static MultimodalDataset build_impl(const SampleSet& samples, const DataSources& sources,
                                      const DatasetOptions& options, const std::vector<std::size_t>& train,
                                      const FittedPreprocessing* fitted);

  DatasetOptions options_;
  std::vector<std::string> entities_;
  std::vector<Sample> samples_;
  std::int64_t price_window_ = 0;
  std::vector<float> price_;  // [N, L, 5]
  std::int64_t text_shape_ = 0;  // values per sample
  UninitializedVector<std::int32_t> text_ids_;  // token ids, widened to int64 in collate()
  UninitializedVector<std::uint8_t> text_mask_;
  std::vector<std::uint8_t> text_present_;
  std::int64_t numeric_width_ = 0;
  std::vector<float> numeric_values_;  // [N, F] after preprocessing
  std::vector<std::uint8_t> numeric_present_;
  std::vector<std::uint8_t> dropped_;
  std::optional<Tokenizer> tokenizer_;
  std::optional<NumericPreprocessor> preprocessor_;
  std::int64_t category_width_ = 0;
  std::vector<std::int64_t> category_ids_;  // [N, C]
  std::optional<CategoryEncoder> categories_;
  std::int64_t chart_height_ = 0;
  std::int64_t chart_width_ = 0;
  std::vector<std::uint8_t> charts_;  // [N, H, W]
  std::vector<std::uint8_t> chart_present_;
  /// Per decision day (days since the epoch), the graph among all entities as of that day.
  std::map<std::int32_t, GraphSnapshot> graphs_;
  std::vector<std::uint8_t> images_;  // [N, C, H, W]
  std::vector<std::uint8_t> image_present_;
};

}  // namespace finfuse::data
