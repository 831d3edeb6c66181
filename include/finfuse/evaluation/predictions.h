// Predictions gathered over an evaluation pass, one row per sample: its decision day and entity, its target, the
// realised forward return, and what the model said (class probabilities, or a value/score). Metrics are computed
// from these rows; the trainer appends a batch at a time and computes once at the end.
#pragma once

#include "finfuse/data/batch.h"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::evaluation {

struct PredictionRows {
  /// 0 for a regression or ranking score; the number of classes (>= 2) for class probabilities.
  std::int64_t classes = 0;
  /// Days since 1970-01-01 (all 0 when samples have no date).
  std::vector<std::int32_t> day;
  std::vector<std::int64_t> entity;
  /// Class index (as a double) or target value.
  std::vector<double> target;
  /// Realised forward return (NaN when unknown).
  std::vector<double> forward_return;
  /// [n x classes] row-major probabilities (classification only).
  std::vector<double> probabilities;
  /// The value the model predicts (regression, ranking), or for classification the score finance metrics rank by:
  /// P(class 1) with two classes, the expected class index with more.
  std::vector<double> score;

  std::size_t size() const { return target.size(); }
  void reserve(std::size_t n);
  /// Appends a batch: `prediction` is logits [B, classes] (softmax is applied) when `classes` > 0, values [B]
  /// otherwise; `target` [B]; the batch supplies day, entity and forward return where it has them. Throws ShapeError
  /// for inconsistent sizes.
  void append(const torch::Tensor& prediction, const torch::Tensor& target, const data::Batch& batch);
  /// Appends one row; `probabilities` has `classes` entries (empty for a score).
  void append_row(std::int32_t day, std::int64_t entity, double target, double forward_return,
                  const std::vector<double>& probabilities, double score);
  /// Predicted class of row i (argmax of its probabilities).
  std::int64_t predicted_class(std::size_t i) const;
  /// Probability of class c for row i.
  double probability(std::size_t i, std::int64_t c) const {
    return probabilities[i * static_cast<std::size_t>(classes) + static_cast<std::size_t>(c)];
  }
};

}  // namespace finfuse::evaluation
