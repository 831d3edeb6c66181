#include "capture_metric.h"

#include <finfuse/core/error.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace extension {

finfuse::evaluation::MetricResult CaptureMetric::compute(const finfuse::evaluation::PredictionRows& rows) const {
  if (rows.classes != 2) {
    throw finfuse::Error("capture needs two-class predictions");
  }
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rows.score[a] > rows.score[b]; });
  const auto flagged = static_cast<std::size_t>(std::ceil(options_.top() * static_cast<double>(rows.size())));
  double caught = 0.0, positives = 0.0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const bool positive = rows.target[order[k]] == 1.0;
    positives += positive ? 1.0 : 0.0;
    caught += positive && k < flagged ? 1.0 : 0.0;
  }
  if (positives == 0.0) {
    throw finfuse::Error("capture needs at least one positive sample");
  }
  finfuse::evaluation::MetricResult result;
  result.values["capture"] = caught / positives;
  return result;
}

}  // namespace extension
