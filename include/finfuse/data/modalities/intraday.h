// The "intraday" modality: each sample's window of the last intraday bars (minute bars, say) of its entity known at
// the decision, [window, 5]: open, high, low and close over the previous bar's close, minus 1 (the window's first bar
// over its own open), and log1p(volume) demeaned over the window. The windows are views: the modality keeps the
// bars once (shared with the intraday panel it was built from, or read in place from a dataset cache file) and the
// row of each sample's last bar, and finishes a window when a batch is collated.
#pragma once

#include "finfuse/core/shared_array.h"
#include "finfuse/data/intraday_panel.h"
#include "finfuse/data/modality.h"

#include <cstdint>
#include <vector>

namespace finfuse::data {

class IntradayModality : public Modality {
 public:
  /// Features per bar.
  static constexpr std::int64_t kFeatures = 5;

  /// Uses options.intraday.
  explicit IntradayModality(const DatasetOptions& options);

  /// Needs context.sources.intraday and samples with decision times. A sample whose entity has fewer than `window`
  /// bars known at its decision, or whose last known bar is older than max_age_hours, has no window.
  void build(const ModalityContext& context) override;
  std::vector<ModalitySpec> specs() const override;
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override;
  double coverage() const override { return fraction_present(present_); }
  void save(BinaryWriter& out) const override;
  void load(BinaryReader& in, const SampleList& samples) override;

  /// Writes the window of `window` rows ending at row `end` of `values` ([rows, 5] open, high, low, close, volume)
  /// as [window, kFeatures] features to `out`.
  static void features(const float* values, std::int64_t end, std::int64_t window, float* out);
  /// Bytes its built inputs hold: the bars, plus a row index and a presence flag per sample.
  std::size_t bytes() const {
    return values_.size() * sizeof(float) + end_row_.size() * (sizeof(std::int64_t) + sizeof(std::uint8_t));
  }
  /// Whether the bars are read in place from a mapped file.
  bool is_view() const { return values_.is_view(); }

 private:
  IntradayWindowOptions options_;
  std::int64_t window_ = 0;
  /// The bars: [rows, 5] open, high, low, close, volume.
  SharedArray<float> values_;
  /// Where each symbol's rows begin, [symbols + 1]: a window never spans two symbols.
  std::vector<std::int64_t> offsets_;
  /// [N]: the row of each sample's last bar; -1 where a sample has no window.
  SharedArray<std::int64_t> end_row_;
  /// [N]: which samples have a window.
  SharedArray<std::uint8_t> present_;
};

}  // namespace finfuse::data
