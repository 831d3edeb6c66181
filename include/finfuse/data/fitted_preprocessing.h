// The state a dataset's modalities fitted on its training samples (the text vocabulary, the numeric scaling, the
// category vocabularies, a user modality's own statistics), stored in a bundle and applied unchanged to new data.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/category_encoder.h"
#include "finfuse/data/numeric_preprocessor.h"
#include "finfuse/data/tokenizer.h"

#include <optional>
#include <string>

namespace finfuse::data {

/// A JSON object in which every modality keeps its fitted state under keys of its own: "tokenizer" (text),
/// "numeric" and "categories" (numeric), and its own name for a modality registered from outside the library.
class FittedPreprocessing {
 public:
  FittedPreprocessing() = default;

  /// Reads and checks saved state: the built-in modalities' state is parsed, and every other key must name a
  /// registered modality. ConfigError at the JSON path otherwise.
  static FittedPreprocessing from_json(const Config& state);
  Json to_json() const { return state_.json(); }

  /// Adds a modality's fitted state (a JSON object) to the others. Error for a key that is already present.
  void merge(const Json& state);
  /// The whole state, with JSON paths into its source for error messages.
  const Config& state() const { return state_; }
  bool empty() const { return state_.size() == 0; }

  /// The built-in modalities' state, parsed; nothing when absent.
  std::optional<Tokenizer> tokenizer() const;
  std::optional<NumericPreprocessor> numeric() const;
  std::optional<CategoryEncoder> categories() const;

 private:
  Config state_;
};

}  // namespace finfuse::data
