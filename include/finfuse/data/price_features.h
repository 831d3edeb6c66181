// Price windows as model input: the bars of a window turned into a [days, 5] matrix of open, high, low, close
// (split- and dividend-adjusted through adj_close / close) and volume, normalised so that windows of different
// price levels are comparable.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/core/shared_array.h"
#include "finfuse/data/binary_io.h"
#include "finfuse/data/price_panel.h"

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::data {

struct PriceWindowOptions {
  // normalize:
  /// "returns": each price over the previous day's close, minus 1 (the bar before the window supplies the first
  /// day's reference; without one the window's first close does); volume as log1p, demeaned over the window.
  /// "relative": each price over the window's last close, minus 1; volume over the window's mean volume, minus 1.
  /// "zscore": each column z-scored within the window (a constant column becomes 0).
  /// "technical": the 11 features of Feng et al. (2019, Adv-ALSTM) per day instead of the bar: open, high and low over
  /// the close, minus 1; close and adjusted close over the previous day's, minus 1; and the 5-, 10-, 15-, 20-, 25- and
  /// 30-day moving averages of the adjusted close over the day's adjusted close, minus 1 (from the bars up to that
  /// day only; a moving average with fewer bars than its length averages those there are).
#define FINFUSE_PRICE_WINDOW_FIELDS(F)                                                                         \
  F(std::string, normalize, "returns", ::finfuse::FieldRule::one_of({"returns", "relative", "zscore", "technical"}), \
    "how a window's prices and volumes are normalised")
  FINFUSE_FIELDS(PriceWindowOptions, FINFUSE_PRICE_WINDOW_FIELDS)
#undef FINFUSE_PRICE_WINDOW_FIELDS

  /// Features per day: 5 (open, high, low, close, volume), or 11 for "technical".
  std::int64_t features() const { return normalize == "technical" ? 11 : 5; }
};


/// The window of bars [last - length + 1, last] of `series` as a row-major [length, options.features()] matrix. Throws
/// finfuse::Error when the window does not fit in the series.
std::vector<float> price_window(const PriceSeries& series, std::int64_t last, std::int64_t length,
                                const PriceWindowOptions& options);

/// Price windows kept as views into their series: what each bar contributes to any window that holds it is computed
/// once per bar, and a window is finished from its rows only when it is needed (a batch is collated). Memory grows
/// with the bars, not with bars x window length as copied windows do. For "returns" a bar keeps its four price
/// returns and log1p(volume) (demeaned over the window when finished); for "technical" its 11 features; for
/// "relative" and "zscore" its adjusted open, high, low, close and volume, normalised over the window when finished:
/// float32 values (20 bytes a bar for "returns" and the others), the window's arithmetic in double. Every window
/// equals price_window() of the same bars bit for bit.
class PriceBars {
 public:
  PriceBars() : PriceBars(PriceWindowOptions{}) {}
  explicit PriceBars(const PriceWindowOptions& options);

  /// Room for `rows` bars in all, so that appending many series does not reallocate.
  void reserve(std::int64_t rows);
  /// Appends a row for every bar of `series`; returns the row of its first bar (bar b is row first + b). The rows
  /// count in rows() and can be read once finish() is called.
  std::int64_t append(const PriceSeries& series);
  /// Makes the appended rows readable (and the bars immutable: copies share them).
  void finish();
  std::int64_t rows() const { return rows_; }
  /// Features per window day (options.features()).
  std::int64_t features() const { return features_; }
  /// Writes the window of `length` rows ending at row `end`, [length, features()] floats, to `out`. The rows must
  /// belong to one series (the caller's window fits in it).
  void window(std::int64_t end, std::int64_t length, float* out) const;
  /// Bytes held.
  std::size_t bytes() const { return (final_.size() + raw_.size()) * sizeof(float); }
  /// Whether the rows are read in place from a mapped file.
  bool is_view() const { return final_.is_view() || raw_.is_view(); }

  void save(BinaryWriter& out) const;
  /// Reads what save() wrote (in place when `in` reads a mapped file); in.inconsistent() when the sizes disagree with
  /// the options.
  void load(BinaryReader& in);

 private:
  enum class Kind { returns, relative, zscore, technical };
  Kind kind_ = Kind::returns;  // the options' normalize, compared once
  std::int64_t features_ = 5;
  std::int64_t final_width_ = 0;  // per-bar features that are final (float)
  std::int64_t raw_width_ = 0;    // per-bar values normalised over the window
  std::int64_t rows_ = 0;
  SharedArray<float> final_;  // [rows, final_width]
  SharedArray<float> raw_;    // [rows, raw_width]
  // Rows appended since finish(), which are not in rows_ yet (so window()'s bounds check refuses them).
  std::int64_t appended_rows_ = 0;
  std::vector<float> appended_final_;
  std::vector<float> appended_raw_;
};

}  // namespace finfuse::data
