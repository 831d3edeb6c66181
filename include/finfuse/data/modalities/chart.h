// The "chart" modality: a candlestick chart of each sample's last days of prices, rendered as a grey image
// [1, H, W] in [0, 1]; absent for samples with too little history.
#pragma once

#include "finfuse/data/chart_image.h"
#include "finfuse/data/modalities/pixel_samples.h"
#include "finfuse/data/modality.h"

#include <vector>

namespace finfuse::data {

class ChartModality : public Modality {
 public:
  /// Uses options.chart.
  explicit ChartModality(const DatasetOptions& options);

  void build(const ModalityContext& context) override;
  std::vector<ModalitySpec> specs() const override;
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override;
  double coverage() const override { return images_.coverage(); }
  void save(BinaryWriter& out) const override;
  void load(BinaryReader& in, std::size_t samples) override;

 private:
  ChartOptions options_;
  PixelSamples images_;
};

}  // namespace finfuse::data
