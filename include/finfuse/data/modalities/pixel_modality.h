// A modality of one image per sample (the chart and image modalities, a user's own): the images live in PixelSamples,
// and this base collates, describes, saves and loads them; a derived modality only fills them in build().
#pragma once

#include "finfuse/data/modalities/pixel_samples.h"
#include "finfuse/data/modality.h"

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::data {

class PixelModality : public Modality {
 public:
  std::vector<ModalitySpec> specs() const override { return {ModalitySpec(name(), images_.shape())}; }
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override;
  double coverage() const override { return images_.coverage(); }
  void save(BinaryWriter& out) const override;
  /// Reads what save() wrote; images of another shape than `shape` (the options') are an inconsistent cache.
  void load(BinaryReader& in, const SampleList& samples) override;

 protected:
  /// `shape` is the [C, H, W] the modality's options give; `what` names its images in errors ("charts").
  PixelModality(std::string name, std::vector<std::int64_t> shape, std::string what);

  /// Sized to `samples` blank images of the options' shape, every one absent; build() fills them in.
  PixelSamples& reset_images(std::size_t samples);
  const PixelSamples& images() const { return images_; }

 private:
  std::vector<std::int64_t> shape_;
  std::string what_;
  PixelSamples images_;
};

}  // namespace finfuse::data
