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

  /// Reads and checks saved state: the built-in modalities' state is parsed (once: the modalities take the parsed
  /// objects), and every other key must name a registered modality. ConfigError at the JSON path otherwise.
  static FittedPreprocessing from_json(const Config& state);
  Json to_json() const { return state_.json(); }

  /// Adds a modality's fitted state (a JSON object) to the others, parsing the built-in keys. Error for a key that is
  /// already present.
  void merge(const Json& state);
  /// The whole state, with JSON paths into its source for error messages.
  const Config& state() const { return state_; }
  bool empty() const { return state_.size() == 0; }

  /// The built-in modalities' state, parsed; nothing when absent.
  const std::optional<Tokenizer>& tokenizer() const noexcept { return tokenizer_; }
  const std::optional<NumericPreprocessor>& numeric() const noexcept { return numeric_; }
  const std::optional<CategoryEncoder>& categories() const noexcept { return categories_; }

 private:
  /// Parses the built-in modalities' keys of state_ that are not parsed yet.
  void parse_builtin();

  Config state_;
  std::optional<Tokenizer> tokenizer_;
  std::optional<NumericPreprocessor> numeric_;
  std::optional<CategoryEncoder> categories_;
};

}  // namespace finfuse::data
