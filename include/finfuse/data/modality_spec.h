// What a model needs to know about one input of a batch to size its encoder: the per-sample shape, the vocabulary
// size of token ids, the number of ids of each categorical column. Every modality describes its batch entries so.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::data {

struct ModalitySpec {
  ModalitySpec() = default;
  ModalitySpec(std::string name_, std::vector<std::int64_t> shape_, std::int64_t vocab_size_ = 0,
               std::vector<std::int64_t> cardinalities_ = {})
      : name(std::move(name_)),
        shape(std::move(shape_)),
        vocab_size(vocab_size_),
        cardinalities(std::move(cardinalities_)) {}

  std::string name;
  /// Per-sample shape of the values: [F] numeric, [L, F] price window, [T] or [N, T] token ids, [C, H, W] images.
  std::vector<std::int64_t> shape;
  /// Token ids: the vocabulary size.
  std::int64_t vocab_size = 0;
  /// Categorical ids: each column's number of ids (the unknown bucket included).
  std::vector<std::int64_t> cardinalities;
  /// Token ids: the tokens by id, where the modality has a fitted tokenizer (for word vectors); may be null.
  std::shared_ptr<const std::vector<std::string>> vocabulary;
};

}  // namespace finfuse::data
