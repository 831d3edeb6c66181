// Daily price panels: many symbols' OHLCV series read from one long-format CSV
// (symbol,date,open,high,low,close[,adj_close],volume), validated row by row, kept per symbol in date order.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/data/bad_records.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

/// Column names of a price file; configurable because every vendor spells them differently.
struct PriceColumns {
  std::string symbol = "symbol";
  std::string date = "date";
  std::string open = "open";
  std::string high = "high";
  std::string low = "low";
  std::string close = "close";
  /// Optional in the file: when absent, the adjusted close is the close.
  std::string adj_close = "adj_close";
  std::string volume = "volume";

  static PriceColumns from_config(const Config& config);
  Json to_json() const;
};

struct PriceCsvOptions {
  CsvOptions csv;
  PriceColumns columns;
  /// The symbol of a single-instrument file without a symbol column; empty means the column is required.
  std::string default_symbol;
  /// Field values that mark a missing observation (a row with any of them in a price field is skipped and counted,
  /// not treated as malformed). NaN and infinities are never "missing": they are errors.
  std::vector<std::string> missing_values = {"", "null", "NA", "N/A", "#N/A"};
  ErrorMode errors = ErrorMode::strict;

  /// Reads {"csv", "columns", "default_symbol", "missing_values", "errors"}.
  static PriceCsvOptions from_config(const Config& config);
  Json to_json() const;
};

/// One symbol's daily bars, dates strictly increasing.
struct PriceSeries {
  std::string symbol;
  std::vector<Date> dates;
  std::vector<double> open;
  std::vector<double> high;
  std::vector<double> low;
  std::vector<double> close;
  std::vector<double> adj_close;
  std::vector<double> volume;

  std::size_t size() const { return dates.size(); }
  /// Index of `date`, or nothing when it is not a trading day of this series.
  std::optional<std::size_t> index_of(Date date) const;
  /// Index of the last bar on or before `date` (as-of lookup), or nothing.
  std::optional<std::size_t> index_at_or_before(Date date) const;
  /// Index of the first bar strictly after `date`, or nothing.
  std::optional<std::size_t> index_after(Date date) const;
};

/// What a load read and skipped.
struct PriceLoadReport {
  std::int64_t rows = 0;
  std::int64_t missing_rows = 0;
  std::int64_t bad_rows = 0;
};

class PricePanel {
 public:
  PricePanel() = default;

  /// Reads a long-format price CSV. Strict mode throws the first DataError (file, line, field); lenient mode
  /// skips bad rows and logs them. Rows marked missing are skipped and counted in both modes.
  static PricePanel load_csv(const std::filesystem::path& path, const PriceCsvOptions& options = {});

  /// Adds a series; throws finfuse::Error when the symbol exists, the columns differ in length, or dates are not
  /// strictly increasing.
  void add(PriceSeries series);

  /// Symbols in sorted order.
  std::vector<std::string> symbols() const;
  bool contains(const std::string& symbol) const { return series_.count(symbol) != 0; }
  /// Throws finfuse::Error for an unknown symbol, with a suggestion.
  const PriceSeries& series(const std::string& symbol) const;
  std::size_t size() const { return series_.size(); }
  /// Total number of bars.
  std::int64_t rows() const;
  /// Earliest and latest dates over all symbols; throws for an empty panel.
  std::pair<Date, Date> date_range() const;
  /// Every date on which at least one symbol traded, sorted.
  std::vector<Date> calendar() const;

  const PriceLoadReport& report() const { return report_; }

 private:
  std::map<std::string, PriceSeries> series_;
  PriceLoadReport report_;
};

}  // namespace finfuse::data
