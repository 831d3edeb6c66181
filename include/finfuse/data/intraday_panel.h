// Intraday bars (minute bars and the like): many symbols' OHLCV bars read from one long-format CSV file
// (symbol,time,open,high,low,close,volume) in bounded memory, kept as float32 columns with each bar's instant, grouped
// by symbol in time order. A bar counts as known at the end of its interval, so that windows as of a decision never
// hold a bar that was still forming.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/core/shared_array.h"
#include "finfuse/data/bad_records.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

/// Column names of an intraday file.
struct IntradayColumns {
#define FINFUSE_INTRADAY_COLUMNS_FIELDS(F)                                                                        \
  F(std::string, symbol, "symbol", {}, "the symbol column")                                                       \
  F(std::string, time, "time", {}, "the bar's instant (ISO 8601; UTC unless it carries an offset)")               \
  F(std::string, open, "open", {}, "the open column")                                                             \
  F(std::string, high, "high", {}, "the high column")                                                             \
  F(std::string, low, "low", {}, "the low column")                                                                \
  F(std::string, close, "close", {}, "the close column")                                                          \
  F(std::string, volume, "volume", {}, "the volume column")
  FINFUSE_FIELDS(IntradayColumns, FINFUSE_INTRADAY_COLUMNS_FIELDS)
#undef FINFUSE_INTRADAY_COLUMNS_FIELDS
};


struct IntradayCsvOptions {
#define FINFUSE_INTRADAY_CSV_FIELDS(F)                                                                            \
  F(char, delimiter, ',', {}, "the field delimiter (fields are not quoted; surrounding double quotes are removed)") \
  F(IntradayColumns, columns, {}, {}, "the columns' names")                                                       \
  F(std::string, stamp, "end", ::finfuse::FieldRule::one_of({"end", "start"}),                                    \
    "what a bar's time marks: the end of its interval (known then) or its start (known bar_seconds later)")       \
  F(std::int64_t, bar_seconds, 60, ::finfuse::Range::closed(1, 86400), "the length of a bar, for stamp start")    \
  F(std::vector<std::string>, missing_values, (std::vector<std::string>{"", "null", "NA", "N/A", "#N/A"}), {},    \
    "values that mark a missing observation (the row is skipped and counted); NaN and infinities are errors")     \
  F(ErrorMode, errors, ErrorMode::strict, {}, "malformed rows: stop at the first (strict) or skip and count them (lenient)")
  FINFUSE_FIELDS(IntradayCsvOptions, FINFUSE_INTRADAY_CSV_FIELDS)
#undef FINFUSE_INTRADAY_CSV_FIELDS

  /// Refuses a delimiter that cannot separate fields: none, a line end, a quote, or a space (which fields may be padded
  /// with).
  void validate(const Config& config) const;
};


/// The "intraday" modality's windows (modalities/intraday.h).
struct IntradayWindowOptions {
#define FINFUSE_INTRADAY_WINDOW_FIELDS(F)                                                                         \
  F(std::int64_t, window, 390, ::finfuse::Range::closed(1, 100000),                                               \
    "bars per sample: the last this many bars known at the decision (390: a New York session of minute bars)")   \
  F(std::int64_t, max_age_hours, 96, ::finfuse::Range::non_negative(),                                            \
    "a window whose last bar became known more than this many hours before the decision is absent (0: no limit)")
  FINFUSE_FIELDS(IntradayWindowOptions, FINFUSE_INTRADAY_WINDOW_FIELDS)
#undef FINFUSE_INTRADAY_WINDOW_FIELDS
};


/// What a load read and skipped.
struct IntradayLoadReport {
  std::int64_t rows = 0;
  std::int64_t missing_rows = 0;
  std::int64_t bad_rows = 0;
};

class IntradayPanel {
 public:
  /// Values per bar: open, high, low, close, volume.
  static constexpr std::int64_t kValues = 5;

  IntradayPanel() = default;

  /// Reads a long-format intraday CSV in two streaming passes (the symbols' row counts, then the bars), holding a
  /// read buffer and the bars, never the file. Rows of a symbol may be interleaved with other symbols' (as files
  /// written day by day are) but must be in increasing time order. Strict mode throws the first DataError (file, line,
  /// column); lenient mode skips bad rows and logs them. Rows marked missing are skipped and counted in both modes.
  static IntradayPanel load_csv(const std::filesystem::path& path, const IntradayCsvOptions& options = {});

  /// Symbols in sorted order; symbol s holds rows [begin(s), end(s)).
  const std::vector<std::string>& symbols() const { return symbols_; }
  /// The index of `symbol`, or nothing.
  std::optional<std::size_t> find(const std::string& symbol) const;
  std::int64_t begin(std::size_t s) const { return offsets_[s]; }
  std::int64_t end(std::size_t s) const { return offsets_[s + 1]; }
  /// Bars of all symbols.
  std::int64_t rows() const { return static_cast<std::int64_t>(times_.size()); }
  /// The instant each bar became known (its end), [rows].
  const SharedArray<std::int64_t>& known_at() const { return times_; }
  /// Open, high, low, close and volume of every bar, row-major [rows, kValues].
  const SharedArray<float>& values() const { return values_; }
  /// The offsets of the symbols' rows, [symbols + 1].
  const std::vector<std::int64_t>& offsets() const { return offsets_; }
  /// The last row of symbol `s` known at or before `t`, or nothing.
  std::optional<std::int64_t> last_known(std::size_t s, Timestamp t) const;

  const IntradayLoadReport& report() const { return report_; }

 private:
  std::vector<std::string> symbols_;
  std::vector<std::int64_t> offsets_{0};
  SharedArray<std::int64_t> times_;
  SharedArray<float> values_;
  IntradayLoadReport report_;
};

}  // namespace finfuse::data
