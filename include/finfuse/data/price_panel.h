// Daily price panels: many symbols' OHLCV series read from one long-format CSV or Parquet file
// (symbol,date,open,high,low,close[,adj_close],volume), validated row by row, kept per symbol in date order.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/bad_records.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace finfuse::data {

/// Column names of a price file; configurable because every vendor spells them differently.
struct PriceColumns {
#define FINFUSE_PRICE_COLUMNS_FIELDS(F)                                                                           \
  F(std::string, symbol, "symbol", {}, "the symbol column")                                                       \
  F(std::string, date, "date", {}, "the date column")                                                             \
  F(std::string, open, "open", {}, "the open column")                                                             \
  F(std::string, high, "high", {}, "the high column")                                                             \
  F(std::string, low, "low", {}, "the low column")                                                                \
  F(std::string, close, "close", {}, "the close column")                                                          \
  F(std::string, adj_close, "adj_close", {}, "the adjusted close column (optional in the file: the close otherwise)") \
  F(std::string, volume, "volume", {}, "the volume column")
  FINFUSE_FIELDS(PriceColumns, FINFUSE_PRICE_COLUMNS_FIELDS)
#undef FINFUSE_PRICE_COLUMNS_FIELDS
};


struct PriceCsvOptions {
#define FINFUSE_PRICE_CSV_FIELDS(F)                                                                               \
  F(CsvOptions, csv, {}, {}, "the CSV dialect")                                                                   \
  F(PriceColumns, columns, {}, {}, "the columns' names")                                                          \
  F(std::string, default_symbol, "", {},                                                                          \
    "the symbol of a single-instrument file without a symbol column (empty: the column is required)")            \
  F(std::vector<std::string>, missing_values, (std::vector<std::string>{"", "null", "NA", "N/A", "#N/A"}), {},    \
    "values that mark a missing observation (the row is skipped and counted); NaN and infinities are errors")     \
  F(ErrorMode, errors, ErrorMode::strict, {}, "malformed rows: stop at the first (strict) or skip and count them (lenient)")
  FINFUSE_FIELDS(PriceCsvOptions, FINFUSE_PRICE_CSV_FIELDS)
#undef FINFUSE_PRICE_CSV_FIELDS
};


/// One symbol's daily bars, dates strictly increasing. The values are float32, 28 bytes a bar with its date: about 7
/// significant digits (a price of 1234.5678 is held to 0.0001, a volume to 1 part in 16.7 million), as columnar
/// market-data stores keep them; what is computed from them (returns, labels, features) is computed in double.
struct PriceSeries {
  std::string symbol;
  std::vector<Date> dates;
  std::vector<float> open;
  std::vector<float> high;
  std::vector<float> low;
  std::vector<float> close;
  std::vector<float> adj_close;
  std::vector<float> volume;

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
  /// skips bad rows and logs them. Rows marked missing are skipped and counted in both modes. The file is read twice:
  /// a quick pass counts each symbol's rows, so that its columns take their room once (an unquoted symbol column; a
  /// file with quotes is read once, its columns grown as they fill and trimmed at the end).
  static PricePanel load_csv(const std::filesystem::path& path, const PriceCsvOptions& options = {});
  /// Reads the same long-format table from a Parquet file (data/parquet.h: the same checks and messages; the CSV
  /// dialect options do not apply, a null is a missing value).
  static PricePanel load_parquet(const std::filesystem::path& path, const PriceCsvOptions& options = {});
  /// load_parquet() for a .parquet or .pq file, load_csv() for anything else.
  static PricePanel load(const std::filesystem::path& path, const PriceCsvOptions& options = {});

  /// Adds a series; throws finfuse::Error when the symbol exists, the columns differ in length, or dates are not
  /// strictly increasing.
  void add(PriceSeries series);

  /// Symbols in sorted order.
  std::vector<std::string> symbols() const;
  bool contains(const std::string& symbol) const { return series_.count(symbol) != 0; }
  /// Throws finfuse::Error for an unknown symbol, with a suggestion.
  const PriceSeries& series(const std::string& symbol) const;
  /// Moves a symbol's series out of the panel, which then no longer lists it (the load report stays as read);
  /// throws like series() for an unknown symbol. For a reader that is the panel's last: it lets each series go as it
  /// is used instead of holding the whole panel to the end.
  PriceSeries take(const std::string& symbol);
  std::size_t size() const { return series_.size(); }
  /// Total number of bars.
  std::int64_t rows() const;
  /// Earliest and latest dates over all symbols; throws for an empty panel.
  std::pair<Date, Date> date_range() const;
  /// Every date on which at least one symbol traded, sorted.
  std::vector<Date> calendar() const;
  /// A copy that holds only the bars whose date `keep` accepts, with the same symbols (a symbol may be left without
  /// bars) and load report.
  PricePanel filtered(const std::function<bool(Date)>& keep) const;

  const PriceLoadReport& report() const { return report_; }

 private:
  /// `counts`: each symbol's rows when a first pass counted them (the room its columns take), or null.
  template <class Reader>
  static PricePanel read(Reader& reader, const PriceCsvOptions& options,
                         const std::unordered_map<std::string, std::size_t>* counts);

  std::map<std::string, PriceSeries> series_;
  PriceLoadReport report_;
};

}  // namespace finfuse::data
