// The options of a multimodal dataset: which modalities to build and how, the relation graph attached to batches, and
// the raw sources they read.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/chart_image.h"
#include "finfuse/data/intraday_panel.h"
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
  /// The market index's bars, for the "market" modality.
  const PriceSeries* market = nullptr;
  /// Intraday bars, for the "intraday" modality.
  const IntradayPanel* intraday = nullptr;
  /// The panel `prices` points to, given when nothing built after the 'price' modality reads it (no other modality,
  /// no correlation graph): that modality then takes each entity's series out of it as soon as it holds the entity's
  /// bars (PricePanel::take), so that the panel and the bars are not held side by side. The data pipeline sets it
  /// when its dataset allows.
  PricePanel* prices_to_release = nullptr;
  /// The corpus `texts` points to, read by TextCorpus::load_times(), given when nothing after the 'text' modality
  /// reads its times: that modality then lets them go (TextCorpus::release_times) once it has found the text
  /// windows, before it reads the texts again to fit its vocabulary and encode them. The data pipeline sets it when
  /// its dataset allows.
  TextCorpus* texts_to_release = nullptr;
};

/// The relation graph attached to cross-sectional batches.
struct GraphOptions {
#define FINFUSE_GRAPH_FIELDS(F)                                                                                   \
  F(std::string, kind, "none", ::finfuse::FieldRule::one_of({"none", "edges", "correlation"}),                    \
    "none, edges (the sources' relation graph as of each day) or correlation (rolling return correlation)")      \
  F(std::int64_t, lookback, 60, ::finfuse::Range::closed(2, 10000), "correlation: bars of returns")               \
  F(double, threshold, 0.5, ::finfuse::Range::closed(0, 1), "correlation: the least |rho| that makes an edge")
  FINFUSE_FIELDS(GraphOptions, FINFUSE_GRAPH_FIELDS)
#undef FINFUSE_GRAPH_FIELDS
};


/// Images read from files named in a table's path column (the row joined like the numeric modality's).
struct ImageOptions {
#define FINFUSE_IMAGE_FIELDS(F)                                                                                   \
  F(std::string, table, "", {}, "the table whose path column names the image files")                              \
  F(std::string, column, "", {}, "that path column")                                                              \
  F(std::int64_t, channels, 3, ::finfuse::Range::closed(1, 3), "1 (grey) or 3 (RGB)")                             \
  F(std::int64_t, height, 64, ::finfuse::Range::closed(1, 4096), "images are resized to this height")             \
  F(std::int64_t, width, 64, ::finfuse::Range::closed(1, 4096), "and this width")                                 \
  F(std::string, on_missing, "error", ::finfuse::FieldRule::one_of({"error", "absent"}),                          \
    "a referenced file that is missing or cannot be decoded: error (naming the table file, line and column) or "  \
    "absent (the sample lacks the modality; counted and logged)")
  FINFUSE_FIELDS(ImageOptions, FINFUSE_IMAGE_FIELDS)
#undef FINFUSE_IMAGE_FIELDS

  void validate(const Config& config) const;
};


/// The text modality from a table's text column (one text per sample: a news sentence, a loan description) instead of
/// the text corpus.
struct TextTableOptions {
#define FINFUSE_TEXT_TABLE_FIELDS(F)                                                                              \
  F(std::string, table, "", {}, "the table with one text per sample (instead of the text corpus)")                \
  F(std::string, column, "", {}, "its text column")
  FINFUSE_FIELDS(TextTableOptions, FINFUSE_TEXT_TABLE_FIELDS)
#undef FINFUSE_TEXT_TABLE_FIELDS

  void validate(const Config& config) const;
};


struct DatasetOptions {
#define FINFUSE_DATASET_FIELDS(F)                                                                                 \
  F(std::vector<std::string>, modalities, (std::vector<std::string>{"price"}), {},                                \
    "modalities to build: price, market (the data.market index's window), intraday (the data.intraday bars' window), text, numeric, chart, image, or one registered with modality_registry() (the "   \
    "numeric tables' categorical columns form a further batch entry, categorical)")                               \
  F(PriceWindowOptions, price, {}, {}, "price windows")                                                           \
  F(IntradayWindowOptions, intraday, {}, {}, "intraday windows")                                                  \
  F(ChartOptions, chart, {}, {}, "chart images")                                                                  \
  F(ImageOptions, image, {}, {}, "images from a table's path column")                                             \
  F(GraphOptions, graph, {}, {}, "the relation graph attached to cross-sectional batches")                        \
  F(TextTableOptions, text_table, {}, {}, "the text modality from a table's text column")                         \
  F(TokenizerOptions, tokenizer, {}, {}, "the text tokenizer")                                                    \
  F(std::string, text_layout, "per_text", ::finfuse::FieldRule::one_of({"per_text", "concat"}),                  \
    "per_text: [max_texts, max_length] token ids per sample (newest text first), for hierarchical text "          \
    "encoders; concat: the texts joined, newest first, into one sequence of max_length")                         \
  F(std::int64_t, max_texts, 10, ::finfuse::Range::closed(1, 10000), "texts per sample, newest first")            \
  F(NumericPreprocessorOptions, numeric, {}, {}, "numeric preprocessing, fitted on training samples")             \
  F(std::string, cross_section, "none", ::finfuse::FieldRule::one_of({"none", "zscore", "rank"}),                 \
    "replace each numeric value by its z-score or percentile rank among the same decision day's samples before "  \
    "the fitted preprocessing")                                                                                   \
  F(bool, forward_fill, true, {}, "a missing value in the as-of row takes the entity's latest earlier observation") \
  F(std::int64_t, category_min_frequency, 1, ::finfuse::Range::positive(),                                        \
    "categories seen fewer times in training go to the unknown id")
  FINFUSE_FIELDS(DatasetOptions, FINFUSE_DATASET_FIELDS)
#undef FINFUSE_DATASET_FIELDS

  /// The options of modalities registered from outside the library, by modality name: the section dataset.<name>,
  /// which the modality's factory reads and checks.
  std::map<std::string, Config> modality_options;

  /// Checks the modalities against the registry and reads the sections of registered ones into modality_options
  /// (each checked by creating the modality); a ConfigError at the JSON path otherwise.
  void validate(const Config& config);
  /// Writes modality_options back as sections.
  void extend_json(Json& out) const;
  bool uses(const std::string& modality) const;
  /// The section of a modality registered from outside the library (an empty object when the config has none).
  Config section(const std::string& modality) const;
};


}  // namespace finfuse::data
