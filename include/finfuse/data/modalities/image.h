// The "image" modality: image files named in a table's path column (the row joined as the numeric modality joins
// it), decoded, resized and laid out channel-first, [C, H, W] in [0, 1].
#pragma once

#include "finfuse/data/modalities/pixel_modality.h"

namespace finfuse::data {

class ImageModality : public PixelModality {
 public:
  /// Uses options.image.
  explicit ImageModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;

 private:
  ImageOptions options_;
};

}  // namespace finfuse::data
