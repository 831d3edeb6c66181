// A modality of a dataset: one kind of input of every sample (a price window, the texts before the decision, the
// numeric rows as of the decision, a chart, an image, or one of the user's own). One class reads its sources, builds
// every sample's point-in-time input, fits its preprocessing on the training samples only (or applies a trained
// model's), collates batches, describes its batch entries for encoders, reports coverage and saves its built inputs
// for the dataset cache. Modalities are created by name through the modality registry, so a project adds its own
// without touching the library.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/registry.h"
#include "finfuse/data/batch.h"
#include "finfuse/data/binary_io.h"
#include "finfuse/data/dataset_options.h"
#include "finfuse/data/fitted_preprocessing.h"
#include "finfuse/data/modality_spec.h"
#include "finfuse/data/sample_indices.h"
#include "finfuse/data/samples.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

/// What a modality builds from.
struct ModalityContext {
  /// The assembled samples (entities, decision times, price window length).
  const SampleSet& samples;
  const DataSources& sources;
  const DatasetOptions& options;
  /// Indices of the training samples that preprocessing is fitted on (empty when `fitted` is set).
  const SampleIndices& train;
  /// A trained model's fitted state, to apply unchanged; nullptr when the modality fits its own on `train`.
  const FittedPreprocessing* fitted = nullptr;

  std::size_t size() const { return samples.samples.size(); }
  Sample sample(std::size_t i) const { return samples.samples[i]; }
  /// The entity name of sample `i`.
  const std::string& entity(std::size_t i) const;
  /// Throws finfuse::Error naming `modality` unless the samples carry decision times.
  void require_timed(const std::string& modality) const;
  /// The source table `name`; finfuse::Error naming `modality` and the tables there are when it is missing.
  const NumericTable& table(const std::string& name, const std::string& modality) const;
  /// The row of `table` that sample `i` sees: by entity for static tables, as of the decision for the others (by
  /// entity, or alone for global tables). Nothing when there is none.
  std::optional<std::size_t> joined_row(const NumericTable& table, std::size_t i) const;
};

class Modality {
 public:
  explicit Modality(std::string name) : name_(std::move(name)) {}
  virtual ~Modality() = default;
  Modality(const Modality&) = delete;
  Modality& operator=(const Modality&) = delete;

  /// The name it is registered and listed under in DatasetOptions::modalities.
  const std::string& name() const { return name_; }

  /// Reads the sources and builds every sample's input, fitting preprocessing on context.train only or taking it
  /// from context.fitted. Throws finfuse::Error naming what is missing or malformed.
  virtual void build(const ModalityContext& context) = 0;
  /// The batch entries it produces (usually one, named like the modality), described for encoders.
  virtual std::vector<ModalitySpec> specs() const = 0;
  /// Adds its entries for the samples at `indices` to batch.modalities.
  virtual void collate(const std::vector<std::size_t>& indices, Batch& batch) const = 0;
  /// The fraction of the samples that have this modality.
  virtual double coverage() const = 0;
  /// False for a sample that cannot be used at all (a missing numeric value under impute "drop").
  virtual bool usable(std::size_t /*sample*/) const { return true; }
  /// The fitted state a bundle stores, as a JSON object of this modality's keys (see FittedPreprocessing); an empty
  /// object when nothing is fitted.
  virtual Json fitted_state() const { return Json::object(); }
  /// The built inputs and fitted state, for the dataset cache.
  virtual void save(BinaryWriter& out) const = 0;
  /// Reads what save() wrote for a dataset of these samples (shared with the dataset, as in build()); in.inconsistent()
  /// when the sizes disagree.
  virtual void load(BinaryReader& in, const SampleList& samples) = 0;

 private:
  std::string name_;
};

/// Factories get the dataset's options (a user modality reads its own section with options.section(name)).
using ModalityRegistry = Registry<std::shared_ptr<Modality>(const DatasetOptions&)>;
/// The modality registry. Built-ins: "price", "market", "intraday", "text", "numeric", "chart", "image".
ModalityRegistry& modality_registry();
/// Whether `name` is one of the modalities the library itself provides.
bool is_builtin_modality(const std::string& name);

// ------------------------------------------------------------------------------------------ collation helpers

/// The rows of `width` floats at `indices` of a row-major table, as a float tensor of `shape` ([B, ...]).
torch::Tensor gather_rows(const float* values, std::int64_t width, const std::vector<std::size_t>& indices,
                          std::vector<std::int64_t> shape);
/// The rows of `width` bytes at `indices` as floats in [0, 1] (pixels / 255), shaped `shape`.
torch::Tensor gather_pixels(const std::uint8_t* values, std::int64_t width, const std::vector<std::size_t>& indices,
                            std::vector<std::int64_t> shape);
/// [B] bool: present[i] != 0 for each index, or all true for empty flags.
torch::Tensor gather_presence(c10::ArrayRef<std::uint8_t> present, const std::vector<std::size_t>& indices);
/// The same, all true for a null `present`.
torch::Tensor gather_presence(const std::vector<std::uint8_t>* present, const std::vector<std::size_t>& indices);
/// The fraction of nonzero flags (0 for none).
double fraction_present(c10::ArrayRef<std::uint8_t> present);

}  // namespace finfuse::data
