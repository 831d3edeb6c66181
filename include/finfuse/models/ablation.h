// Modality ablation: the same trained model evaluated with each modality masked in turn (treated as absent for every
// sample, so the learned "missing" embedding stands in), reported as a table of metric deltas against the full model.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/batch.h"
#include "finfuse/models/multimodal_model.h"

#include <functional>
#include <string>
#include <vector>

namespace finfuse::models {

struct AblationResult {
  /// Metric names: per head "<head>.loss", and "<head>.accuracy" (classification) or "<head>.ic" (Pearson
  /// correlation of predictions and targets, regression and ranking).
  std::vector<std::string> metrics;
  /// "none" (the full model) first, then each masked modality.
  std::vector<std::string> masked;
  /// values[row][metric]
  std::vector<std::vector<double>> values;
  std::int64_t samples = 0;

  /// values[row][k] - values[0][k].
  double delta(std::size_t row, std::size_t metric) const { return values[row][metric] - values[0][metric]; }
  /// {"samples": n, "metrics": [...], "rows": [{"masked": "none", "values": {...}, "delta": {...}}, ...]}
  Json to_json() const;
  /// A text table: one row per masked modality, each metric with its delta.
  std::string table() const;
};

/// Evaluates `model` (in eval mode, without gradients) on every batch `next_batch` yields until it returns false,
/// once with nothing masked and once per modality masked. The batches are requested anew for each pass through
/// `rewind`, which must restart the sequence.
AblationResult modality_ablation(MultimodalModelImpl& model, const std::function<bool(data::Batch&)>& next_batch,
                                 const std::function<void()>& rewind);

/// The same over a fixed list of batches.
AblationResult modality_ablation(MultimodalModelImpl& model, const std::vector<data::Batch>& batches);

}  // namespace finfuse::models
