// The data pipeline from one configuration: sources (prices, texts, numeric tables), point-in-time samples (or the
// rows of a static table), a split, and the dataset fitted on the training part, with a summary of what was built.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/intraday_panel.h"
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
#include <string_view>
#include <vector>

namespace finfuse {
class MappedFile;  // core/file.h
}  // namespace finfuse

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


/// A file the pipeline reads with its reader's options, one JSON object: {"path": "...", <the reader's fields>}.
template <typename Reader>
struct Source {
#define FINFUSE_SOURCE_FIELDS(F)                                                                                  \
  F(std::filesystem::path, path, {}, ::finfuse::FieldRule::required(),                                           \
    "the file; relative to the configuration's file, \"${VAR}\" reads the environment")
  FINFUSE_FIELDS(Source, FINFUSE_SOURCE_FIELDS)
#undef FINFUSE_SOURCE_FIELDS

  /// The reader's options, written beside the path.
  Reader options;

  void validate(const Config& config) { options = Reader::from_config(config, options); }
  void extend_json(Json& out) const { out.update(options.to_json()); }
  static void extend_fields(std::vector<FieldInfo>& out) {
    const auto& reader = Reader::fields();
    out.insert(out.end(), reader.begin(), reader.end());
  }
};

using PriceSource = Source<PriceCsvOptions>;
using TextSource = Source<TextJsonlOptions>;
using IntradaySource = Source<IntradayCsvOptions>;
using GraphSource = Source<EdgeListOptions>;

/// A numeric table: its name (the key under "tables"), its file and its reader's options.
struct TableSource {
  std::string name;
  std::filesystem::path path;
  NumericTableOptions options;
};

}  // namespace finfuse::data

namespace finfuse {

/// "tables": {"<name>": {"path": ..., <NumericTableOptions>}, ...}, in name order.
template <>
struct FieldCodec<std::vector<data::TableSource>> {
  static std::string type_name() { return "object"; }
  static std::vector<data::TableSource> read(const Config& parent, const std::string& key);
  static Json write(const std::vector<data::TableSource>& tables);
  static FieldRule rule() { return {}; }
};

}  // namespace finfuse

namespace finfuse::data {

struct DataConfig {
#define FINFUSE_DATA_FIELDS(F)                                                                                     \
  F(std::optional<PriceSource>, prices, std::nullopt, {}, "the daily price panel (see data.prices)")               \
  F(std::optional<PriceSource>, market, std::nullopt, {},                                                         \
    "a market index's daily bars (one instrument; a file without a symbol column is read as one), for the "        \
    "'market' modality (see data.prices for the reader's keys)")                                                   \
  F(std::optional<IntradaySource>, intraday, std::nullopt, {},                                                    \
    "intraday bars (symbol,time,open,high,low,close,volume), for the 'intraday' modality (see data.intraday)")     \
  F(std::optional<TextSource>, texts, std::nullopt, {}, "the text corpus (see data.texts)")                        \
  F(std::vector<TableSource>, tables, {}, {}, "numeric tables by name: {\"<name>\": {\"path\", ...}} (see data.tables)") \
  F(std::optional<GraphSource>, graph, std::nullopt, {}, "the relation graph (see data.graph)")                    \
  F(std::string, samples_from_table, "", {},                                                                      \
    "the static table whose rows are the samples (empty: point-in-time samples from the price panel)")            \
  F(AssemblyOptions, assembly, {}, {}, "point-in-time assembly of the samples")                                    \
  F(SplitOptions, split, {}, {}, "the split into training, validation and test")                                  \
  F(DatasetOptions, dataset, {}, {}, "modalities and preprocessing")                                              \
  F(bool, keep_prices, false, {},                                                                                 \
    "keep the price panel after the build, for DataPipeline::prices() (nothing in finfuse reads it there); "       \
    "without it the panel goes once the modalities that read it are built")
  FINFUSE_FIELDS(DataConfig, FINFUSE_DATA_FIELDS)
#undef FINFUSE_DATA_FIELDS

  /// Reads the configuration and anchors relative paths at `base_dir` (the configuration file's directory).
  static DataConfig from_config(const Config& config, const std::filesystem::path& base_dir);
  /// Makes every relative path absolute against `base_dir`.
  void anchor_paths(const std::filesystem::path& base_dir);
  /// The checks across sections: where the samples come from, the label's table.
  void validate(const Config& config) const;
  /// Every input file the configuration reads (prices, market, texts, tables, graph, a WordPiece vocabulary).
  std::vector<std::filesystem::path> input_files() const;
};

/// How much of a dataset cache file is checked when it is reopened.
enum class CacheCheck {
  /// Its trailer, its key, and every size and index in it, so that no damage can make a read go out of bounds: the
  /// values are trusted, as the file is written whole under a temporary name and renamed, never in place. The arrays
  /// are read in place from the mapped file; only the pages the checks and the batches touch are read.
  structure,
  /// Also the SHA-256 of the whole payload, written with it (reads the whole file: about a second a gigabyte).
  checksum,
};

class DataPipeline {
 public:
  /// Loads the sources, assembles the samples, splits them and builds the dataset (fitted on the training part).
  /// With a `cache_dir`, the result is stored there in a file named after the resolved configuration, with a key
  /// made of the configuration and the SHA-256 of every input file, and a checksum; a later build whose key matches
  /// reopens it instead (an input whose size and modification time are unchanged is not hashed again). The file is
  /// mapped and its arrays read in place, shared by every process that opens it; the build that writes it goes on with
  /// the file's arrays too, letting go of its own and of the sources. A cache file that is damaged (as far as `check`
  /// looks), of another version, or built from other inputs is reported and rebuilt, never trusted.
  static DataPipeline build(const DataConfig& config, const std::filesystem::path& cache_dir = {},
                            CacheCheck check = CacheCheck::structure);
  /// New data for a trained model: the sources are loaded and assembled the same way, keeping the samples whose
  /// label is not known yet (SampleMode::inference), and the model's fitted preprocessing is applied (nothing is
  /// fitted). Every usable sample is in split().test.
  static DataPipeline build_for_inference(const DataConfig& config, const FittedPreprocessing& fitted);
  /// The relation graph of the sources, if any (also when reopened from the cache).
  const RelationGraph* graph() const { return graph_.get(); }

  const DataConfig& config() const { return config_; }
  const SampleSet& samples() const { return *samples_; }
  const Split& split() const { return split_; }
  std::shared_ptr<const MultimodalDataset> dataset() const { return dataset_; }
  /// The price panel the samples were assembled from, when data.keep_prices asks for it; null otherwise (the build lets
  /// it go once the modalities that read it are built), when the pipeline reads a cache file (reopened, or built with
  /// a cache directory), and when the build let it go before reading the texts (its dataset has a "text" modality and
  /// no modality of a user's, and no correlation graph: the panel and the texts are never held at once).
  const PricePanel* prices() const { return prices_.get(); }

  /// Samples per split, label balance, date ranges, modality coverage and what the loads skipped.
  Json summary() const;
  /// Whether this pipeline was loaded from the cache.
  bool from_cache() const { return from_cache_; }

  /// The cache key of a configuration: SHA-256 over the resolved configuration and the input files' contents.
  static std::string cache_key(const DataConfig& config);

 private:
  /// Reads the sources, the texts only unless texts_later() (build_dataset() reads them then).
  DataSources load_sources(const NumericTable*& sample_table, const NumericTable*& label_table);
  /// Whether the texts are read after the modalities that need the price panel are built and the panel is let go, so
  /// that the two are never held at once: when the dataset has a "text" modality and otherwise only built-in ones
  /// (a user's modality may read anything).
  bool texts_later() const;
  /// The corpus of config_.texts: whole, or its times only when data.texts.hold_texts is false.
  TextCorpus load_texts() const;
  /// Whether every modality of the dataset is a built-in one (a user's may read any source, at any time).
  bool builtin_modalities_only() const;
  /// Whether the "price" modality is the last reader of the price panel: no other modality of the dataset reads it
  /// (the market index's and the chart's do; a user's may), nor does a correlation graph.
  bool price_modality_reads_prices_last() const;
  /// The dataset of samples_, fitting preprocessing on `train` or applying `fitted`; reads the texts when
  /// texts_later(), after letting go of the price panel (unless a correlation graph needs it), the market index and
  /// the intraday bars. When price_modality_reads_prices_last() and the panel is not kept for prices() (texts read
  /// later, or `keep_prices` false), the price modality lets the panel go entity by entity as it makes the bars; the
  /// panel is let go once the dataset is built unless `keep_prices`. Given a `spill_file` (a name next to the dataset
  /// file being built), the modalities built before the texts are read are written there and read back in place
  /// (MultimodalDataset::Builder::spill), so that the texts' stage does not hold them; the mapping is kept in spill_
  /// (a failure to write it is a warning: they stay in memory).
  std::shared_ptr<const MultimodalDataset> build_dataset(DataSources sources, const SampleIndices& train,
                                                         const FittedPreprocessing* fitted, bool keep_prices,
                                                         const std::filesystem::path& spill_file = {});
  /// Writes the built pipeline to `cache_file` with its key and its input files' fingerprints (atomically; a failure
  /// is a warning, the run goes on, and false is returned).
  bool write_cache(const std::filesystem::path& cache_file, const std::string& key, const Json& inputs) const;
  /// The pipeline stored in `cache_file`, read in place; DataError or IoError when the file is damaged (as far as
  /// `check` looks), of another version or built from other inputs.
  static DataPipeline open_cache(const DataConfig& config, const std::filesystem::path& cache_file, CacheCheck check);
  /// The samples, split, report and dataset in `payload` (a cache file's bytes between magic and trailer), read in
  /// place from `mapped`, which they keep alive; DataError naming `source` for inconsistent bytes.
  static DataPipeline read_cache(const DataConfig& config, std::shared_ptr<const MappedFile> mapped,
                                 std::string_view payload, const std::string& source);
  /// Lets go of the sources that only the build reads (the texts, the intraday panel, the market index, the numeric
  /// tables; the intraday modality shares the bars it needs); the relation graph stays, for graph(), and so does the
  /// price panel where data.keep_prices keeps it for prices().
  void release_sources();

  DataConfig config_;
  std::shared_ptr<PricePanel> prices_;
  std::shared_ptr<PricePanel> market_;
  std::shared_ptr<TextCorpus> texts_;
  std::shared_ptr<IntradayPanel> intraday_;
  std::vector<std::shared_ptr<NumericTable>> tables_;
  std::shared_ptr<RelationGraph> graph_;
  /// Shared with the dataset, which holds no copy of the samples.
  std::shared_ptr<SampleSet> samples_ = std::make_shared<SampleSet>();
  Split split_;
  std::shared_ptr<const MultimodalDataset> dataset_;
  Json sources_report_ = Json::object();
  /// The file the modalities built before the texts were moved to while the build went on (build_dataset()); the
  /// dataset file is written from it without keeping its pages.
  std::shared_ptr<const MappedFile> spill_;
  /// Price bars left out because the exchange had no session on their day (sessions_only).
  std::int64_t off_calendar_ = 0;
  bool from_cache_ = false;
};

}  // namespace finfuse::data
