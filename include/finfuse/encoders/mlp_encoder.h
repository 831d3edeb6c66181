// Numeric and categorical features: an MLP over the feature vector, or over the concatenated embeddings of
// categorical ids.
#pragma once

#include "finfuse/encoders/encoder.h"
#include "finfuse/nn/mlp.h"

#include <torch/nn/modules/container/modulelist.h>

namespace finfuse::encoders {

struct MlpEncoderOptions {
  std::vector<std::int64_t> layers = {64, 64};
  std::string activation = "relu";
  double dropout = 0.0;
  std::string norm = "none";
  bool residual = false;
  /// Categorical input: embedding size per column; 0 picks min(50, (cardinality + 1) / 2).
  std::int64_t embedding_dim = 0;

  static MlpEncoderOptions from_config(const Config& config);
  Json to_json() const;
};

class MlpEncoderImpl : public Encoder {
 public:
  MlpEncoderImpl(const MlpEncoderOptions& options, ModalitySpec spec);

  EncoderOutput encode(const data::ModalityBatch& input) override;
  std::int64_t output_size() const override { return options_.layers.back(); }
  Json options_json() const override;

 private:
  MlpEncoderOptions options_;
  bool categorical_;
  torch::nn::ModuleList embeddings_{nullptr};
  nn::Mlp mlp_{nullptr};
};

}  // namespace finfuse::encoders
