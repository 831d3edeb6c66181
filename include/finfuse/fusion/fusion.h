// The fusion interface: the pooled vectors (and token sequences, where an encoder has them) of every modality, with
// per-sample presence, in; one fused vector per sample out, plus what the layer lets a person inspect (gate values,
// attention weights). Fusion layers are created by name through the fusion registry, so changing one word of a
// configuration swaps the layer.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/registry.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::fusion {

/// What a fusion layer knows about a modality when it is built.
struct FusionModality {
  std::string name;
  /// Width D of the pooled vector and of the tokens.
  std::int64_t size = 0;
  /// Whether the encoder also delivers a token sequence, and the tokens' width (0: the pooled width; a CNN's
  /// feature-map positions have the channel count instead).
  bool has_tokens = false;
  std::int64_t token_size = 0;

  std::int64_t tokens_width() const { return token_size > 0 ? token_size : size; }
};

/// One modality of one batch, as its encoder delivered it. Absent samples' pooled rows have already been replaced by
/// the model's learned "missing" embedding; `present` says which they were.
struct ModalityFeatures {
  /// [B, D]
  torch::Tensor pooled;
  /// [B, T, D'] (D' = the modality's tokens_width()) and [B, T] bool (true = real token), or undefined.
  torch::Tensor tokens;
  torch::Tensor token_mask;
  /// [B] bool
  torch::Tensor present;
};

struct FusionInput {
  /// In the order of the modalities the layer was built for.
  std::vector<ModalityFeatures> modalities;
  /// The batch's relation graph ([2, E] int64 positions in the batch, [E] weights), for graph fusion.
  torch::Tensor edge_index;
  torch::Tensor edge_weight;
  /// [B] int32 decision day of each sample (days since 1970-01-01), for layers that relate the samples of one day to
  /// each other; undefined for samples without decision times.
  torch::Tensor day;
};

struct FusionOutput {
  /// [B, output_size()]
  torch::Tensor fused;
  /// Per-sample values for inspection, documented by each layer ("gates" [B, M], "attention" [B, M + 1], ...).
  std::map<std::string, torch::Tensor> inspection;
};

class Fusion : public torch::nn::Module {
 public:
  explicit Fusion(std::vector<FusionModality> modalities);

  /// Throws ShapeError naming the modality and both shapes when the input does not match the modalities.
  virtual FusionOutput fuse(const FusionInput& input) = 0;
  virtual std::int64_t output_size() const = 0;
  /// The fully resolved options, as the factory reads them (with "type").
  virtual Json options_json() const = 0;
  /// Whether the layer reads the batch's relation graph (and so needs cross-sectional batches with a graph).
  virtual bool uses_graph() const { return false; }
  /// Whether a sample's fused vector depends on the other samples of its decision day, so that batches must hold one
  /// decision day each ("batching": "cross_sectional"); every layer that reads the graph does.
  virtual bool cross_sectional() const { return uses_graph(); }

  const std::vector<FusionModality>& modalities() const { return modalities_; }
  std::int64_t parameter_count() const;

 protected:
  void check_input(const FusionInput& input) const;
  /// Index of the modality named by options[key]; a ConfigError at the key lists the modalities otherwise.
  std::size_t modality_index(const Config& options, const std::string& key, const std::string& name) const;
  /// Sum of the modalities' widths.
  std::int64_t total_size() const;
  /// Throws finfuse::Error naming `layer` unless every sample of the input has the same decision day (a layer that
  /// relates a day's samples to each other must never see a later day's inputs next to an earlier day's).
  static void check_one_day(const FusionInput& input, const char* layer);

 private:
  std::vector<FusionModality> modalities_;
};

using FusionRegistry = Registry<std::shared_ptr<Fusion>(const Config& options, const std::vector<FusionModality>&)>;

/// The fusion registry. Built-ins: "concat", "gated", "attention" (modality-token transformer), "cross_attention",
/// "bilinear", "graph" (GraphSAGE or GAT over the entity graph, after a per-entity fusion) and "cross_section" (a
/// transformer across the day's stocks with a market-context token, after a per-entity fusion).
FusionRegistry& fusion_registry();

/// Creates the fusion named by options["type"] for `modalities` (at least one); unknown types and keys are
/// ConfigErrors at their path.
std::shared_ptr<Fusion> make_fusion(const Config& options, const std::vector<FusionModality>& modalities);

}  // namespace finfuse::fusion
