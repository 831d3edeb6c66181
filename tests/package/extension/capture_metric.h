// A metric defined outside finfuse: the share of all positives (defaults) found among the `top` share of samples
// with the highest scores, a credit team's "capture rate".
#pragma once

#include <finfuse/core/options.h>
#include <finfuse/evaluation/metric.h>

namespace extension {

struct CaptureMetricOptions {
#define EXTENSION_CAPTURE_FIELDS(F) \
  F(double, top, 0.1, ::finfuse::Range::closed(0.001, 1.0), "share of samples flagged, by score")
  FINFUSE_OPTIONS(CaptureMetricOptions, EXTENSION_CAPTURE_FIELDS)
#undef EXTENSION_CAPTURE_FIELDS
};

class CaptureMetric : public finfuse::evaluation::Metric {
 public:
  explicit CaptureMetric(CaptureMetricOptions options) : options_(std::move(options)) {}
  /// values["capture"]: positives among the top-scored samples / all positives.
  finfuse::evaluation::MetricResult compute(const finfuse::evaluation::PredictionRows& rows) const override;
  finfuse::Json options_json() const override { return finfuse::typed_json("capture", options_.to_json()); }

 private:
  CaptureMetricOptions options_;
};

}  // namespace extension
