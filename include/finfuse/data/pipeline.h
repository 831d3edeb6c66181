// The data pipeline from one configuration: sources (prices, texts, numeric tables), point-in-time samples (or the
// rows of a static table), a split, and the dataset fitted on the training part, with a summary of what was built.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/price_panel.h"
#include "finfuse/data/relation_graph.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/splits.h"
#include "finfuse/data/text_corpus.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

struct SplitOptions {
#define FINFUSE_SPLIT_FIELDS(F)                                                                                   \
  F(std::string, kind, "chronological",                                                                           \
    ::finfuse::FieldRule::one_of({"chronological", "walk_forward", "purged_kfold", "random", "stratified"}),      \
    "how samples are split into training, validation and test")                                                   \
  F(std::string, valid_start, "", {}, "chronological: first validation day, YYYY-MM-DD (required)")               \
  F(std::string, test_start, "", {}, "chronological: first test day, YYYY-MM-DD (required)")                      \
  F(std::string, test_end, "", {}, "chronological: the day after the last test day, YYYY-MM-DD (optional)")       \
  F(std::int64_t, fold, 0, ::finfuse::Range::non_negative(), "walk_forward and purged_kfold: which fold to use")  \
  F(WalkForwardOptions, walk_forward, {}, {}, "walk_forward: the windows")                                        \
  F(std::int64_t, folds, 5, ::finfuse::Range::at_least(2), "purged_kfold: folds")                                 \
  F(std::int64_t, embargo_days, 0, ::finfuse::Range::non_negative(), "purged_kfold: days left out after each test fold") \
  F(double, valid_fraction, 0.1, ::finfuse::Range::half_open(0, 1), "random and stratified: validation share")    \
  F(double, test_fraction, 0.2, ::finfuse::Range::half_open(0, 1), "random and stratified: test share")           \
  F(std::uint64_t, seed, 42, {}, "random and stratified: the shuffle's seed")
  FINFUSE_FIELDS(SplitOptions, FINFUSE_SPLIT_FIELDS)
#undef FINFUSE_SPLIT_FIELDS

  /// Checks the dates (and writes them as YYYY-MM-DD) and the fractions.
  void validate(const Config& config);
};


struct TableSource {
  std::string name;
  std::filesystem::path path;
  NumericTableOptions options;
};

struct DataConfig {
  /// Resolved paths (relative paths in the configuration are relative to its file).
  std::optional<std::filesystem::path> prices_path;
  PriceCsvOptions prices;
  std::optional<std::filesystem::path> texts_path;
  TextJsonlOptions texts;
  std::vector<TableSource> tables;
  /// Relations: an edge list, or a symbol -> sector table ("format": "edges" or "sector_table").
  std::optional<std::filesystem::path> graph_path;
  std::string graph_format = "edges";
  EdgeListOptions graph;
  /// Empty: samples come from the price panel (point-in-time assembly). Otherwise the name of a static table whose
  /// rows are the samples.
  std::string samples_from_table;
  AssemblyOptions assembly;
  SplitOptions split;
  DatasetOptions dataset;

  /// Reads {"prices": {"path", ...}, "texts": {"path", ...}, "tables": {"<name>": {"path", ...}},
  /// "samples_from_table", "assembly", "split", "dataset"}; `base_dir` anchors relative paths.
  static DataConfig from_config(const Config& config, const std::filesystem::path& base_dir);
  Json to_json() const;
  /// Every input file the configuration reads (prices, texts, tables, graph).
  std::vector<std::filesystem::path> input_files() const;
};

class DataPipeline {
 public:
  /// Loads the sources, assembles the samples, splits them and builds the dataset (fitted on the training part).
  /// With a `cache_dir`, the result is stored there under a key made of the resolved configuration and the SHA-256
  /// of every input file, with a checksum; a later build with the same key loads it instead. A damaged cache file is
  /// reported and rebuilt, never trusted.
  static DataPipeline build(const DataConfig& config, const std::filesystem::path& cache_dir = {});
  /// New data for a trained model: the sources are loaded and assembled the same way, keeping the samples whose
  /// label is not known yet (SampleMode::inference), and the model's fitted preprocessing is applied (nothing is
  /// fitted). Every usable sample is in split().test.
  static DataPipeline build_for_inference(const DataConfig& config, const FittedPreprocessing& fitted);
  /// The relation graph of the sources, if any.
  const RelationGraph* graph() const { return graph_.get(); }

  const DataConfig& config() const { return config_; }
  const SampleSet& samples() const { return samples_; }
  const Split& split() const { return split_; }
  std::shared_ptr<const MultimodalDataset> dataset() const { return dataset_; }
  const PricePanel* prices() const { return prices_.get(); }

  /// Samples per split, label balance, date ranges, modality coverage and what the loads skipped.
  Json summary() const;
  /// Whether this pipeline was loaded from the cache.
  bool from_cache() const { return from_cache_; }

  /// The cache key of a configuration: SHA-256 over the resolved configuration and the input files' contents.
  static std::string cache_key(const DataConfig& config);

 private:
  DataSources load_sources(const NumericTable*& sample_table, const NumericTable*& label_table);

  DataConfig config_;
  std::shared_ptr<PricePanel> prices_;
  std::shared_ptr<TextCorpus> texts_;
  std::vector<std::shared_ptr<NumericTable>> tables_;
  std::shared_ptr<RelationGraph> graph_;
  SampleSet samples_;
  Split split_;
  std::shared_ptr<const MultimodalDataset> dataset_;
  Json sources_report_ = Json::object();
  bool from_cache_ = false;
};

}  // namespace finfuse::data
