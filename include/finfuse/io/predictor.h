// Serving a trained model from its bundle, with no training code paths and no Python: new raw data in the formats
// the model was trained on (prices, texts, numeric tables) are assembled the same way, the bundle's fitted
// preprocessing is applied, and the model predicts without gradients. One Predictor may be shared by any number of
// threads: predictions only read the model.
#pragma once

#include "finfuse/data/pipeline.h"
#include "finfuse/evaluation/predictions.h"
#include "finfuse/io/bundle.h"

#include <c10/core/Device.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace finfuse::io {

/// Predictions for a set of samples, per head, with the samples' entities and dates.
struct PredictionTable {
  std::vector<std::string> heads;
  std::map<std::string, evaluation::PredictionRows> rows;
  /// Per row: the entity's name and the decision date ("" for undated samples).
  std::vector<std::string> entity;
  std::vector<std::string> date;

  std::size_t size() const { return entity.size(); }
  /// Writes the CSV documented in docs/cli.md (atomically): entity, date, target, forward_return, then per head
  /// "<head>.class" and "<head>.p<k>" (classification) or "<head>.value" (regression, ranking). Unknown values are
  /// empty fields.
  void write_csv(const std::filesystem::path& path) const;
};

/// Reads a predictions CSV (the format PredictionTable::write_csv writes) into the rows of one head: `head` names it
/// (empty: the first head in the header, and it is set). `task`: "classification" or "regression"/"ranking" to insist
/// on probability or value columns, "" to infer it, "backtest" to keep rows without a target too. Rows without a
/// target are skipped otherwise. DataError naming the file, line and column for a missing column or a bad number.
evaluation::PredictionRows read_predictions_csv(const std::filesystem::path& path, std::string& head,
                                                const std::string& task = "");

class Predictor {
 public:
  explicit Predictor(const std::filesystem::path& bundle, const c10::Device& device = c10::Device(c10::DeviceType::CPU));
  explicit Predictor(Bundle bundle, const c10::Device& device = c10::Device(c10::DeviceType::CPU));

  const Bundle& bundle() const { return bundle_; }
  const models::MultimodalModel& model() const { return model_; }

  /// The data configuration the model was trained with (paths as stored in the bundle).
  data::DataConfig training_data() const;

  /// Predictions for every sample of the data `data` describes, including the latest days whose label is not known
  /// yet (their target and forward return are NaN). A static table without its label column is accepted.
  PredictionTable predict(data::DataConfig data) const;

  /// Head outputs for a batch collated by a dataset built with this bundle's preprocessing: logits [B, C] or values
  /// [B] per head.
  std::map<std::string, torch::Tensor> predict(const data::Batch& batch) const;

 private:
  Bundle bundle_;
  c10::Device device_;
  models::MultimodalModel model_{nullptr};
};

}  // namespace finfuse::io
