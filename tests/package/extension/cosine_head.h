// A prediction head defined outside finfuse: a cosine classifier. The logits are the cosine similarities between the
// fused vector and one learned prototype per class, times a scale; it learns the dataset's label with cross-entropy,
// optionally label-smoothed.
#pragma once

#include <finfuse/core/options.h>
#include <finfuse/models/head.h>

#include <torch/nn/pimpl.h>

namespace extension {

struct CosineHeadOptions {
  explicit CosineHeadOptions(std::int64_t classes = 2) { classes_ = classes; }

#define EXTENSION_COSINE_HEAD_FIELDS(F)                                                                     \
  F(std::int64_t, classes, 2, ::finfuse::Range::at_least(2), "number of classes")                           \
  F(double, scale, 10.0, ::finfuse::Range::positive(), "the logits' scale (cosines lie in [-1, 1])")       \
  F(double, label_smoothing, 0.0, ::finfuse::Range::half_open(0, 1), "label smoothing of the cross-entropy")
  FINFUSE_OPTIONS(CosineHeadOptions, EXTENSION_COSINE_HEAD_FIELDS)
#undef EXTENSION_COSINE_HEAD_FIELDS
};

class CosineHeadImpl : public finfuse::models::Head {
 public:
  CosineHeadImpl(CosineHeadOptions options, std::int64_t in_features);

  torch::Tensor forward(const torch::Tensor& fused) override;
  torch::Tensor target(const finfuse::data::Batch& batch) const override;
  torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& target,
                     const torch::Tensor& day = {}) const override;
  std::int64_t classes() const override { return options_.classes(); }
  std::string task() const override { return "classification"; }
  std::int64_t in_features() const override { return prototypes_.size(1); }
  finfuse::Json options_json() const override { return finfuse::typed_json("cosine", options_.to_json()); }

  /// [classes, in_features]: one prototype per class.
  const torch::Tensor& prototypes() const { return prototypes_; }

 private:
  CosineHeadOptions options_;
  torch::Tensor prototypes_;
};
TORCH_MODULE(CosineHead);

}  // namespace extension
