// The "chart" modality: a candlestick chart of each sample's last days of prices, rendered as a grey image
// [1, H, W] in [0, 1]; absent for samples with too little history.
#pragma once

#include "finfuse/data/chart_image.h"
#include "finfuse/data/modalities/pixel_modality.h"

namespace finfuse::data {

class ChartModality : public PixelModality {
 public:
  /// Uses options.chart.
  explicit ChartModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;

 private:
  ChartOptions options_;
};

}  // namespace finfuse::data
