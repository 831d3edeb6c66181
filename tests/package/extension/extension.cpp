#include "extension.h"

#include "capture_metric.h"
#include "cosine_head.h"
#include "feature_gate_encoder.h"
#include "max_fusion.h"
#include "quantile_bins_modality.h"

namespace extension {

void register_extension() {
  finfuse::encoders::encoder_registry().add(
      "feature_gate",
      [](const finfuse::Config& options, const finfuse::encoders::ModalitySpec& spec) {
        return std::static_pointer_cast<finfuse::encoders::Encoder>(
            FeatureGateEncoder(FeatureGateEncoderOptions::from_config(options), spec).ptr());
      },
      FeatureGateEncoderOptions::fields());
  finfuse::fusion::fusion_registry().add(
      "max",
      [](const finfuse::Config& options, const std::vector<finfuse::fusion::FusionModality>& modalities) {
        return std::static_pointer_cast<finfuse::fusion::Fusion>(
            MaxFusion(MaxFusionOptions::from_config(options), modalities).ptr());
      },
      MaxFusionOptions::fields());
  finfuse::models::head_registry().add(
      "cosine",
      [](const finfuse::Config& options, const finfuse::models::HeadContext& context) {
        return std::static_pointer_cast<finfuse::models::Head>(
            CosineHead(CosineHeadOptions::from_config(options), context.in_features).ptr());
      },
      CosineHeadOptions::fields());
  finfuse::evaluation::metric_registry().add(
      "capture",
      [](const finfuse::Config& options) -> std::unique_ptr<finfuse::evaluation::Metric> {
        return std::make_unique<CaptureMetric>(CaptureMetricOptions::from_config(options));
      },
      CaptureMetricOptions::fields());
  finfuse::data::modality_registry().add(
      "quantile_bins",
      [](const finfuse::data::DatasetOptions& options) -> std::shared_ptr<finfuse::data::Modality> {
        return std::make_shared<QuantileBinsModality>(QuantileBinsOptions::from_config(options.section("quantile_bins")));
      },
      QuantileBinsOptions::fields());
}

}  // namespace extension
