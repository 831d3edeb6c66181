// The options of a multimodal dataset: which modalities to build and how, the relation graph attached to batches, and
// the raw sources they read.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/chart_image.h"
#include "finfuse/data/numeric_preprocessor.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/price_features.h"
#include "finfuse/data/relation_graph.h"
#include "finfuse/data/text_corpus.h"
#include "finfuse/data/tokenizer.h"

#include <cstdint>
#include <map>
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
  /// Modalities to build: any of the built-in "price", "text", "numeric", "chart", "image", or a modality
  /// registered from outside the library (modality_registry()). With "numeric", the tables' categorical columns form
  /// a further batch entry, "categorical" (ids, 0 = unknown).
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
  /// The options of modalities registered from outside the library, by modality name: the section dataset.<name>,
  /// which the modality's factory reads and checks.
  std::map<std::string, Config> modality_options;

  /// Reads the options; an unknown modality, or a registered one whose factory rejects its section, is a ConfigError
  /// at the JSON path.
  static DatasetOptions from_config(const Config& config);
  Json to_json() const;
  bool uses(const std::string& modality) const;
  /// The section of a modality registered from outside the library (an empty object when the config has none).
  Config section(const std::string& modality) const;
};

}  // namespace finfuse::data
