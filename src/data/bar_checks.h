#pragma once

// The checks every reader of price bars applies (PricePanel's daily bars, IntradayPanel's intraday ones), so that a
// bad value gets the same message whatever the file. Not installed.

#include "finfuse/core/error.h"
#include "finfuse/data/csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse::data::internal {

/// Whether `text` is one of the markers of a missing row ("null", "" and the like). A few short strings: a length
/// check and a compare beat a tree lookup for every field.
inline bool is_missing_marker(const std::vector<std::string>& markers, std::string_view text) {
  return std::any_of(markers.begin(), markers.end(),
                     [&](const std::string& m) { return m.size() == text.size() && m == text; });
}

/// What a bar value must be: a price is positive, a volume is not negative.
enum class BarValue { price, volume };

/// The value of `text`, a finite number of the kind `kind` that float32 holds; otherwise a DataError naming `file`, `line` and `column`.
inline double bar_value(std::string_view text, BarValue kind, const std::string& file, std::int64_t line,
                        const std::string& column) {
  const auto value = parse_number(text);
  if (!value) {
    throw DataError(file, line, column, fmt::format("expected a number, got {}", quoted_value(text)));
  }
  if (!std::isfinite(*value)) {
    throw DataError(file, line, column, fmt::format("expected a finite number, got {}", quoted_value(text)));
  }
  if (kind == BarValue::price && *value <= 0.0) {
    throw DataError(file, line, column, fmt::format("expected a positive price, got {}", quoted_value(text)));
  }
  if (kind == BarValue::volume && *value < 0.0) {
    throw DataError(file, line, column, fmt::format("expected a volume >= 0, got {}", quoted_value(text)));
  }
  // Bars are kept as float32: a value it cannot hold (a price that would round to 0) is refused, not rounded.
  if (*value > static_cast<double>(std::numeric_limits<float>::max()) ||
      (kind == BarValue::price && *value < static_cast<double>(std::numeric_limits<float>::min()))) {
    throw DataError(file, line, column,
                    fmt::format("expected a value within float32's range (1.2e-38 to 3.4e38), got {}", quoted_value(text)));
  }
  return *value;
}

/// Throws a DataError at `file`:`line` unless high is the largest of the four prices and low the smallest, within a
/// small tolerance for vendors' rounding (anything more is a broken row or a column mix-up).
inline void check_bar_consistent(double open, double high, double low, double close, const std::string& file,
                                 std::int64_t line) {
  const double tolerance = 1e-6 * high;
  if (high + tolerance < std::max({open, close, low}) || low - tolerance > std::min({open, close, high})) {
    throw DataError(file, line, "",
                    fmt::format("inconsistent bar: open {} high {} low {} close {} (high must be the largest, low the "
                                "smallest)",
                                open, high, low, close));
  }
}

}  // namespace finfuse::data::internal
