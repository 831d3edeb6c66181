// Cross-sectional fusion over the day's stocks (the data-axis transformer of DTML, Yoo et al., KDD 2021): a
// per-entity fusion (any fusion layer; concat by default) gives each stock of a one-day batch a vector, which is
// projected and layer-normalised; a market context joins them, and transformer layers let every stock attend to the
// day's other stocks and to the market. The fused vector is the stock's output token, with the per-entity vector
// concatenated when "skip" is on.
//
// The market context is the day's average of the stocks' vectors ("mean"), or the pooled vector of a modality that
// describes the market (e.g. "market": an index's price window up to the stocks' last bar; that modality is then left
// out of the per-entity fusion), or nothing. It enters as one more token every stock attends to ("token"), as DTML's
// multi-level context h_u + beta x h_m added to every stock's vector ("add"), or both.
//
// Point in time: every input is a sample's own point-in-time input, and the layer refuses a batch that holds more than
// one decision day, so no stock ever sees a later day. Needs "batching": "cross_sectional".
// Inspection: the per-entity fusion's entries prefixed "entity.", and "stock_attention" [B, B (+1)] (last layer,
// averaged over heads: each stock's weights over the day's stocks in batch order, the market token first when there
// is one).
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/fusion/fusion.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>

namespace finfuse::fusion {

struct CrossSectionFusionOptions {
#define FINFUSE_CROSS_SECTION_FUSION_FIELDS(F)                                                                     \
  F(Json, entity, (Json{{"type", "concat"}}), FieldRule(),                                                        \
    "the per-entity fusion's options (a fusion configuration with \"type\")")                                      \
  F(std::string, market, "mean", FieldRule(),                                                                     \
    "the market context: mean (the day's average stock vector), none, or a modality's name (its pooled vector, "  \
    "e.g. the index window of the 'market' modality; left out of the per-entity fusion)")                         \
  F(std::string, combine, "token", FieldRule::one_of({"token", "add", "both"}),                                   \
    "how the market context enters: token (one more token the stocks attend to), add (each stock's vector plus "  \
    "beta x the market's, DTML's multi-level context) or both")                                                   \
  F(double, beta, 1.0, Range::non_negative(), "add, both: the market vector's weight")                            \
  F(std::int64_t, hidden, 64, Range::positive(), "width of the stock tokens")                                     \
  F(std::int64_t, heads, 4, Range::positive(), "attention heads; must divide hidden")                             \
  F(std::int64_t, layers, 1, Range::closed(1, 8), "transformer layers across the day's stocks")                    \
  F(std::int64_t, feedforward, 128, Range::positive(), "the transformer layers' feed-forward width")              \
  F(double, dropout, 0.1, Range::half_open(0, 1), "dropout")                                                      \
  F(bool, skip, true, FieldRule(), "concatenate the per-entity vector to the stock's output token")
  FINFUSE_OPTIONS(CrossSectionFusionOptions, FINFUSE_CROSS_SECTION_FUSION_FIELDS)
#undef FINFUSE_CROSS_SECTION_FUSION_FIELDS

 public:
  /// entity is an object; heads divides hidden; a market context to combine when combine is not token.
  void validate(const Config& config) const;
};

class CrossSectionFusionImpl : public Fusion {
 public:
  CrossSectionFusionImpl(const Config& config, std::vector<FusionModality> modalities);
  /// From typed options; a market modality they name that `modalities` lacks is a ConfigError at its key.
  CrossSectionFusionImpl(const CrossSectionFusionOptions& options, std::vector<FusionModality> modalities);

  /// Throws finfuse::Error when the batch holds more than one decision day or carries no days.
  FusionOutput fuse(const FusionInput& input) override;
  std::int64_t output_size() const override;
  Json options_json() const override { return typed_json("cross_section", options_.to_json()); }
  bool uses_graph() const override { return entity_->uses_graph(); }
  bool cross_sectional() const override { return true; }

  /// The per-entity fusion.
  Fusion& entity() const { return *entity_; }

 private:
  CrossSectionFusionOptions options_;
  /// Index of the market modality, when the market context is one.
  std::optional<std::size_t> market_;
  /// The other modalities, which the per-entity fusion reads, by index.
  std::vector<std::size_t> entity_modalities_;
  std::shared_ptr<Fusion> entity_;
  torch::nn::Linear project_{nullptr};
  torch::nn::LayerNorm input_norm_{nullptr};
  torch::nn::Linear market_project_{nullptr};
  /// The market token's type embedding, and the context of a day on which no sample has the market modality.
  torch::Tensor market_embedding_;
  torch::Tensor no_market_;
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm output_norm_{nullptr};
};

TORCH_MODULE(CrossSectionFusion);

}  // namespace finfuse::fusion
