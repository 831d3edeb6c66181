// The multimodal dataset: every assembled sample's inputs, one Modality per kind of input (price windows, texts before
// the decision, numeric rows as of the decision, charts, images, or a user's own), with preprocessing fitted on the
// training samples only, and the relation graph among entities as of each decision day; collated into batches.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/batch.h"
#include "finfuse/data/category_encoder.h"
#include "finfuse/data/dataset_options.h"
#include "finfuse/data/fitted_preprocessing.h"
#include "finfuse/data/modality.h"
#include "finfuse/data/modality_spec.h"
#include "finfuse/data/numeric_preprocessor.h"
#include "finfuse/data/relation_graph.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace finfuse {
class MappedFile;
}  // namespace finfuse

namespace finfuse::data {

class MultimodalDataset {
 public:
  /// Computes the inputs of every sample, modality by modality (as options.modalities lists them, each created
  /// through the modality registry), fitting their preprocessing on the samples listed in `train` only. Throws
  /// finfuse::Error when a requested modality's source is missing. The dataset shares the set's sample records.
  static MultimodalDataset build(const SampleSet& samples, const DataSources& sources, const DatasetOptions& options,
                                 const SampleIndices& train);
  /// The same for new data with preprocessing fitted elsewhere (a trained model's): nothing is fitted here. Throws
  /// finfuse::Error when a used modality's fitted state is missing or does not match the data's columns.
  static MultimodalDataset build(const SampleSet& samples, const DataSources& sources, const DatasetOptions& options,
                                 const FittedPreprocessing& fitted);
  /// Builds a dataset one modality at a time (below).
  class Builder;
  /// Every modality's fitted state.
  FittedPreprocessing fitted() const;

  std::size_t size() const { return samples_.size(); }
  Sample sample(std::size_t i) const { return samples_[i]; }
  const SampleList& samples() const { return samples_; }
  const std::vector<std::string>& entities() const { return entities_; }
  const DatasetOptions& options() const { return options_; }

  /// Stacks the samples at `indices` into a batch. Throws for a sample that is not usable().
  Batch collate(const std::vector<std::size_t>& indices) const;
  /// False for samples a modality cannot use (a missing numeric value under numeric.impute "drop").
  bool usable(std::size_t i) const { return dropped_.empty() || dropped_[i] == 0; }
  /// `indices` without the samples that are not usable.
  std::vector<std::size_t> usable_only(const std::vector<std::size_t>& indices) const;

  /// The built modalities, in the order options.modalities lists them.
  const std::vector<std::shared_ptr<const Modality>>& modalities() const { return modalities_; }
  /// The modality `name`, or nullptr.
  const Modality* find_modality(const std::string& name) const;
  /// The modality `name` as its class (e.g. dataset.modality<TextModality>("text")); finfuse::Error when it is not
  /// built or is of another class.
  template <typename M>
  const M& modality(const std::string& name) const {
    const auto* typed = dynamic_cast<const M*>(find_modality(name));
    if (typed == nullptr) {
      throw_no_modality(name, typeid(M));
    }
    return *typed;
  }
  /// Every batch entry the modalities produce, described for encoders, in the order of their names.
  std::vector<ModalitySpec> specs() const;

  /// The fitted text tokenizer, numeric preprocessing and category encoder, when those modalities are built.
  const std::optional<Tokenizer>& tokenizer() const;
  const std::optional<NumericPreprocessor>& numeric_preprocessor() const;
  const std::optional<CategoryEncoder>& category_encoder() const;
  /// Fraction of samples that have `modality` (a modality's name, or a batch entry such as "categorical").
  double coverage(const std::string& modality) const;

  /// Every built input and fitted state as bytes, and back (for the on-disk cache). deserialize() throws a
  /// DataError naming `source` for truncated or inconsistent bytes. Bytes written without the samples (a cache that
  /// stores them itself) are read back with those samples given to deserialize(), which the dataset then shares.
  /// Given an `owner` that keeps `bytes` alive and unchanged (the mapped cache file), the dataset's arrays are read
  /// in place instead of copied.
  std::string serialize(bool with_samples = true) const;
  /// The same bytes into `out` (which may hand them on to a file as they come).
  void serialize(BinaryWriter& out, bool with_samples = true) const;
  static MultimodalDataset deserialize(std::string_view bytes, const std::string& source,
                                       std::optional<SampleList> samples = std::nullopt,
                                       std::shared_ptr<const void> owner = nullptr);

 private:
  [[noreturn]] void throw_no_modality(const std::string& name, const std::type_info& wanted) const;
  void find_unusable();

  DatasetOptions options_;
  std::vector<std::string> entities_;
  /// Shared with the SampleSet it was built from.
  SampleList samples_;
  std::vector<std::shared_ptr<const Modality>> modalities_;
  std::vector<std::uint8_t> dropped_;
  /// Per decision day (days since the epoch), the graph among all entities as of that day.
  std::map<std::int32_t, GraphSnapshot> graphs_;
};

/// Builds a MultimodalDataset one modality at a time and in any order, so that a source can be read just before the
/// modalities that need it and let go after the last of them: DataPipeline lets the price panel go before it reads
/// the texts, so that it never holds both. MultimodalDataset::build() is add() of each modality in turn, then
/// finish().
class MultimodalDataset::Builder {
 public:
  /// For `samples` (shared, not copied, by the dataset), fitting preprocessing on the samples listed in `train` only,
  /// or applying `fitted` unchanged when given. The set, `train` and `fitted` are read, not copied: they must outlive
  /// the builder (a temporary list of training samples is refused at compile time).
  Builder(const SampleSet& samples, const DatasetOptions& options, const SampleIndices& train,
          const FittedPreprocessing* fitted = nullptr);
  Builder(const SampleSet& samples, const DatasetOptions& options, SampleIndices&& train,
          const FittedPreprocessing* fitted = nullptr) = delete;
  /// Applying `fitted` (a trained model's preprocessing) unchanged: nothing is fitted.
  Builder(const SampleSet& samples, const DatasetOptions& options, const FittedPreprocessing& fitted);
  /// Builds the modality `name`, which options.modalities lists and which is not built yet, from `sources`.
  void add(const std::string& name, const DataSources& sources);
  /// Whether the modality `name` is built.
  bool has(const std::string& name) const;
  /// Moves the inputs of every modality built so far into `file`, and reads them back in place from it: they stop
  /// counting as the process's own memory while the modalities still to come are built (DataPipeline writes the
  /// bars there before it reads the texts, when it builds a dataset file). The file is removed once mapped; the
  /// mapping keeps it until the last modality reading it goes. Returns the mapping (null when no modality is built
  /// yet). IoError or DataError when it cannot be written or read back; the built modalities are then unchanged.
  std::shared_ptr<const MappedFile> spill(const std::filesystem::path& file);
  /// The dataset, once every modality of options.modalities is built, with the relation graph of each decision day
  /// taken from `sources`. The builder is spent afterwards.
  MultimodalDataset finish(const DataSources& sources);

 private:
  const SampleSet& samples_;
  const SampleIndices& train_;
  const FittedPreprocessing* fitted_;
  MultimodalDataset dataset_;
  bool finished_ = false;
};

}  // namespace finfuse::data
