// The "image" modality: image files named in a table's path column (the row joined as the numeric modality joins
// it), decoded, resized and laid out channel-first, [C, H, W] in [0, 1].
#pragma once

#include "finfuse/data/modalities/pixel_samples.h"
#include "finfuse/data/modality.h"

#include <vector>

namespace finfuse::data {

class ImageModality : public Modality {
 public:
  /// Uses options.image.
  explicit ImageModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;
  std::vector<ModalitySpec> specs() const override;
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override;
  double coverage() const override { return images_.coverage(); }
  void save(BinaryWriter& out) const override;
  void load(BinaryReader& in, std::size_t samples) override;

 private:
  ImageOptions options_;
  PixelSamples images_;
};

}  // namespace finfuse::data
