// Numeric and categorical features: an MLP over the feature vector, or over the concatenated embeddings of
// categorical ids.
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/nn/mlp.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

namespace finfuse::encoders {

struct MlpEncoderOptions {
#define FINFUSE_MLP_ENCODER_FIELDS(F)                                                                              \
  F(std::vector<std::int64_t>, layers, (std::vector<std::int64_t>{64, 64}),                                      \
    FieldRule(Range::positive()).non_empty("must name at least one layer width"), "widths of the hidden layers")   \
  F(std::string, activation, "relu", FieldRule(), "a registered activation (nn/activation.h)")                    \
  F(double, dropout, 0.0, Range::half_open(0, 1), "dropout after each hidden layer")                              \
  F(std::string, norm, "none", FieldRule::one_of({"none", "batch", "layer"}), "normalisation of each hidden layer") \
  F(bool, residual, false, FieldRule(), "skip connections between layers of equal width")                         \
  F(std::int64_t, embedding_dim, 0, Range::non_negative(),                                                         \
    "categorical input: embedding size per column; 0 picks min(50, (cardinality + 1) / 2)")
  FINFUSE_OPTIONS(MlpEncoderOptions, FINFUSE_MLP_ENCODER_FIELDS)
#undef FINFUSE_MLP_ENCODER_FIELDS

 public:
  /// The activation must be registered.
  void validate(const Config& config) const;
};

class MlpEncoderImpl : public Encoder {
 public:
  MlpEncoderImpl(const MlpEncoderOptions& options, ModalitySpec spec);

  EncoderOutput encode(const data::ModalityBatch& input) override;
  std::int64_t output_size() const override { return options_.layers().back(); }
  Json options_json() const override;

 private:
  MlpEncoderOptions options_;
  bool categorical_;
  torch::nn::ModuleList embeddings_{nullptr};
  nn::Mlp mlp_{nullptr};
};

TORCH_MODULE(MlpEncoder);

}  // namespace finfuse::encoders
