#include "finfuse/data/price_features.h"

#include "finfuse/core/check.h"

#include <algorithm>
#include <cmath>

namespace finfuse::data {
namespace {

// Adjusted OHLC: the raw price of `field` (0 open, 1 high, 2 low, 3 close) scaled by the day's adjustment factor.
double adjusted_price(const PriceSeries& series, std::size_t k, int field) {
  const double factor = static_cast<double>(series.adj_close[k]) / series.close[k];
  switch (field) {
    case 0:
      return series.open[k] * factor;
    case 1:
      return series.high[k] * factor;
    case 2:
      return series.low[k] * factor;
    default:
      return series.adj_close[k];
  }
}

// The 11 "technical" features of bar i (Feng et al. 2019), from the bars up to i only.
void technical_features(const PriceSeries& series, std::size_t i, double* row) {
  const double close = series.close[i];
  row[0] = series.open[i] / close - 1.0;
  row[1] = series.high[i] / close - 1.0;
  row[2] = series.low[i] / close - 1.0;
  row[3] = i > 0 ? close / series.close[i - 1] - 1.0 : 0.0;
  row[4] = i > 0 ? static_cast<double>(series.adj_close[i]) / series.adj_close[i - 1] - 1.0 : 0.0;
  int feature = 5;
  for (const int period : {5, 10, 15, 20, 25, 30}) {
    const auto k = static_cast<std::size_t>(period);
    const std::size_t count = std::min(k, i + 1);
    double sum = 0.0;
    for (std::size_t j = 0; j < count; ++j) {
      sum += series.adj_close[i - j];
    }
    row[feature++] = sum / static_cast<double>(count) / series.adj_close[i] - 1.0;
  }
}

}  // namespace

std::vector<float> price_window(const PriceSeries& series, std::int64_t last, std::int64_t length,
                                const PriceWindowOptions& options) {
  const auto n = static_cast<std::int64_t>(series.size());
  FINFUSE_CHECK(length >= 1 && last < n && last - length + 1 >= 0, "price window of ", length, " days ending at bar ",
                last, " does not fit the ", n, " bars of ", series.symbol);
  const std::int64_t first = last - length + 1;
  const auto adjusted = [&](std::int64_t i, int field) {
    return adjusted_price(series, static_cast<std::size_t>(i), field);
  };
  const std::int64_t width = options.features();
  std::vector<double> out(static_cast<std::size_t>(length * width));
  const auto at = [&](std::int64_t day, int feature) -> double& {
    return out[static_cast<std::size_t>(day * width + feature)];
  };
  if (options.normalize == "technical") {
    for (std::int64_t d = 0; d < length; ++d) {
      technical_features(series, static_cast<std::size_t>(first + d), &at(d, 0));
    }
  } else if (options.normalize == "returns") {
    for (std::int64_t d = 0; d < length; ++d) {
      const std::int64_t i = first + d;
      const double reference = i > 0 ? series.adj_close[static_cast<std::size_t>(i - 1)] : adjusted(first, 3);
      for (int f = 0; f < 4; ++f) {
        at(d, f) = adjusted(i, f) / reference - 1.0;
      }
      // Rounded to float32, as PriceBars keeps it.
      at(d, 4) = static_cast<float>(std::log1p(static_cast<double>(series.volume[static_cast<std::size_t>(i)])));
    }
    double mean = 0;
    for (std::int64_t d = 0; d < length; ++d) {
      mean += at(d, 4);
    }
    mean /= static_cast<double>(length);
    for (std::int64_t d = 0; d < length; ++d) {
      at(d, 4) -= mean;
    }
  } else if (options.normalize == "relative") {
    const double last_close = series.adj_close[static_cast<std::size_t>(last)];
    double mean_volume = 0;
    for (std::int64_t d = 0; d < length; ++d) {
      mean_volume += series.volume[static_cast<std::size_t>(first + d)];
    }
    mean_volume /= static_cast<double>(length);
    for (std::int64_t d = 0; d < length; ++d) {
      for (int f = 0; f < 4; ++f) {
        at(d, f) = static_cast<float>(adjusted(first + d, f)) / last_close - 1.0;  // float32, as PriceBars keeps it
      }
      at(d, 4) = mean_volume > 0 ? series.volume[static_cast<std::size_t>(first + d)] / mean_volume - 1.0 : 0.0;
    }
  } else {
    for (int f = 0; f < 5; ++f) {
      double mean = 0;
      for (std::int64_t d = 0; d < length; ++d) {
        // float32, as PriceBars keeps it.
        at(d, f) = f < 4 ? static_cast<float>(adjusted(first + d, f)) : series.volume[static_cast<std::size_t>(first + d)];
        mean += at(d, f);
      }
      mean /= static_cast<double>(length);
      double variance = 0;
      for (std::int64_t d = 0; d < length; ++d) {
        variance += (at(d, f) - mean) * (at(d, f) - mean);
      }
      const double sd = std::sqrt(variance / static_cast<double>(length));
      for (std::int64_t d = 0; d < length; ++d) {
        at(d, f) = sd > 0 ? (at(d, f) - mean) / sd : 0.0;
      }
    }
  }
  return std::vector<float>(out.begin(), out.end());
}

// ---------------------------------------------------------------------------------------------------- price bars
// The arithmetic below is price_window()'s (the same helpers, and the same expressions for the window-wide steps), so
// that a finished window is the same floats; PriceBars.WindowsEqualPriceWindowBitForBit checks every normalisation.

PriceBars::PriceBars(const PriceWindowOptions& options) : features_(options.features()) {
  if (options.normalize == "technical") {
    kind_ = Kind::technical;
    final_width_ = 11;
  } else if (options.normalize == "returns") {
    kind_ = Kind::returns;
    final_width_ = 4;
    raw_width_ = 1;
  } else {
    kind_ = options.normalize == "relative" ? Kind::relative : Kind::zscore;
    raw_width_ = 5;
  }
}

void PriceBars::reserve(std::int64_t rows) {
  appended_final_.reserve(static_cast<std::size_t>(rows * final_width_));
  appended_raw_.reserve(static_cast<std::size_t>(rows * raw_width_));
}

std::int64_t PriceBars::append(const PriceSeries& series) {
  const std::int64_t first_row = rows_ + appended_rows_;
  const std::size_t n = series.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (kind_ == Kind::technical) {
      double row[11];
      technical_features(series, i, row);
      for (const double v : row) {
        appended_final_.push_back(static_cast<float>(v));
      }
    } else if (kind_ == Kind::returns) {
      // A window's first bar is referred to the bar before it, or to its own close when there is none (bar 0).
      const double reference = i > 0 ? series.adj_close[i - 1] : adjusted_price(series, i, 3);
      for (int f = 0; f < 4; ++f) {
        appended_final_.push_back(static_cast<float>(adjusted_price(series, i, f) / reference - 1.0));
      }
      appended_raw_.push_back(static_cast<float>(std::log1p(static_cast<double>(series.volume[i]))));
    } else {
      for (int f = 0; f < 4; ++f) {
        appended_raw_.push_back(static_cast<float>(adjusted_price(series, i, f)));
      }
      appended_raw_.push_back(series.volume[i]);
    }
  }
  appended_rows_ += static_cast<std::int64_t>(n);
  return first_row;
}

void PriceBars::finish() {
  if (appended_rows_ == 0) {
    return;
  }
  // The first finish() moves the appended rows; later ones join them to a copy of the earlier rows.
  if (!final_.empty() || !raw_.empty()) {
    appended_final_.insert(appended_final_.begin(), final_.begin(), final_.end());
    appended_raw_.insert(appended_raw_.begin(), raw_.begin(), raw_.end());
  }
  final_ = std::move(appended_final_);
  raw_ = std::move(appended_raw_);
  appended_final_.clear();
  appended_raw_.clear();
  rows_ += appended_rows_;
  appended_rows_ = 0;
}

void PriceBars::window(std::int64_t end, std::int64_t length, float* out) const {
  FINFUSE_CHECK(length >= 1 && end < rows_ && end - length + 1 >= 0, "price window of ", length,
                " rows ending at row ", end, " does not fit the ", rows_, " rows of price bars");
  const std::int64_t first = end - length + 1;
  const std::int64_t width = features_;
  const auto raw = [&](std::int64_t row, std::int64_t column) {
    return raw_[static_cast<std::size_t>(row * raw_width_ + column)];
  };
  const auto put = [&](std::int64_t day, std::int64_t feature, double value) {
    out[day * width + feature] = static_cast<float>(value);
  };
  if (final_width_ > 0) {
    for (std::int64_t d = 0; d < length; ++d) {
      std::copy_n(final_.data() + (first + d) * final_width_, final_width_, out + d * width);
    }
  }
  if (kind_ == Kind::returns) {
    double mean = 0;
    for (std::int64_t d = 0; d < length; ++d) {
      mean += raw(first + d, 0);
    }
    mean /= static_cast<double>(length);
    for (std::int64_t d = 0; d < length; ++d) {
      put(d, 4, raw(first + d, 0) - mean);
    }
  } else if (kind_ == Kind::relative) {
    const double last_close = raw(end, 3);
    double mean_volume = 0;
    for (std::int64_t d = 0; d < length; ++d) {
      mean_volume += raw(first + d, 4);
    }
    mean_volume /= static_cast<double>(length);
    for (std::int64_t d = 0; d < length; ++d) {
      for (int f = 0; f < 4; ++f) {
        put(d, f, raw(first + d, f) / last_close - 1.0);
      }
      put(d, 4, mean_volume > 0 ? raw(first + d, 4) / mean_volume - 1.0 : 0.0);
    }
  } else if (kind_ == Kind::zscore) {
    for (int f = 0; f < 5; ++f) {
      double mean = 0;
      for (std::int64_t d = 0; d < length; ++d) {
        mean += raw(first + d, f);
      }
      mean /= static_cast<double>(length);
      double variance = 0;
      for (std::int64_t d = 0; d < length; ++d) {
        const double x = raw(first + d, f);
        variance += (x - mean) * (x - mean);
      }
      const double sd = std::sqrt(variance / static_cast<double>(length));
      for (std::int64_t d = 0; d < length; ++d) {
        put(d, f, sd > 0 ? (raw(first + d, f) - mean) / sd : 0.0);
      }
    }
  }
}

void PriceBars::save(BinaryWriter& out) const {
  FINFUSE_CHECK(appended_rows_ == 0, "PriceBars: rows appended since finish()");
  out.pod(rows_);
  out.vec(final_);
  out.vec(raw_);
}

void PriceBars::load(BinaryReader& in) {
  rows_ = in.pod<std::int64_t>();
  final_ = in.array<float>();
  raw_ = in.array<float>();
  appended_final_ = {};
  appended_raw_ = {};
  appended_rows_ = 0;
  // Compared by division: a damaged row count must not wrap around in a product.
  const auto holds_rows = [&](std::size_t size, std::int64_t width) {
    return width == 0 ? size == 0 : size % static_cast<std::size_t>(width) == 0 &&
                                        size / static_cast<std::size_t>(width) == static_cast<std::size_t>(rows_);
  };
  if (rows_ < 0 || !holds_rows(final_.size(), final_width_) || !holds_rows(raw_.size(), raw_width_)) {
    in.inconsistent("price bars of another size than their rows and normalisation need");
  }
}

}  // namespace finfuse::data
