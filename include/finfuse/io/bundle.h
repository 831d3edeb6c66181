// A trained model as one self-contained artifact: a folder (or one archive file) holding the resolved configuration,
// the weights, the fitted preprocessing (tokenizer vocabulary, numeric scalers, category vocabularies), the entity
// list, the relation graph snapshot, the evaluation metrics, and a manifest (finfuse and LibTorch versions, seed,
// determinism, source revision, creation time, training duration, a SHA-256 of every input data file and of every
// bundle file). Bundles are written under a temporary name and renamed into place, so a reader never sees half of
// one; loading checks the format version (io/format_version.h: any finfuse reads the bundle format versions it
// lists, whichever finfuse wrote them) and every checksum.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/data/relation_graph.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/models/multimodal_model.h"

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace finfuse::io {

/// What a training run hands to write_bundle().
struct BundleSource {
  models::MultimodalModel model{nullptr};
  std::vector<encoders::ModalitySpec> modalities;
  data::FittedPreprocessing preprocessing;
  std::vector<std::string> entities;
  /// The data, training and runtime configuration, resolved (stored under "data", "training", "runtime").
  Json data = Json::object();
  Json training = Json::object();
  Json runtime = Json::object();
  const data::RelationGraph* graph = nullptr;
  /// Evaluation figures (validation and test values, history).
  Json metrics = Json::object();
  /// Input data files, hashed into the manifest.
  std::vector<std::filesystem::path> inputs;
  std::uint64_t seed = 0;
  bool deterministic = false;
  double training_seconds = 0.0;
};

struct Bundle {
  /// {"data", "training", "runtime", "model", "modalities"}
  Json config;
  Json manifest;
  Json metrics;
  data::FittedPreprocessing preprocessing;
  std::vector<std::string> entities;
  /// The relation graph snapshot (null when the data have none).
  Json graph;
  /// The serialized weights (a LibTorch archive).
  std::string weights;
  /// Where it was read from.
  std::filesystem::path source;

  std::vector<encoders::ModalitySpec> modalities() const;
  /// The model with its weights, in eval mode, on `device`.
  models::MultimodalModel build_model(const c10::Device& device = c10::Device(c10::DeviceType::CPU)) const;
};

/// A bundle source with everything that comes from the data filled in: the modality specifications, the fitted
/// preprocessing, the entities, the data configuration, the relation graph and the input files.
BundleSource bundle_source(models::MultimodalModel model, const data::DataPipeline& pipeline);

/// Writes the bundle folder `dir` (replacing an existing one atomically). Returns the manifest.
Json write_bundle(const std::filesystem::path& dir, const BundleSource& source);

/// Packs a bundle folder into one archive file (a zip behind a size + SHA-256 header, see write_sealed_file(),
/// written atomically).
void write_bundle_archive(const std::filesystem::path& dir, const std::filesystem::path& archive);

/// Reads a bundle folder or archive. IoError for a missing path or file; DataError naming the file for a checksum
/// mismatch, a truncated or malformed file, or a bundle format version this finfuse does not read (naming it).
Bundle read_bundle(const std::filesystem::path& path);

/// Model specifications to and from JSON.
Json modality_specs_json(const std::vector<encoders::ModalitySpec>& specs);
std::vector<encoders::ModalitySpec> modality_specs_from_json(const Config& json);

}  // namespace finfuse::io
