#include "finfuse/data/price_panel.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/parquet.h"

#include "bar_checks.h"
#include "line_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <unordered_map>

namespace finfuse::data {
namespace {

// Where a missing column is reported: the header line of a CSV file, the file as a whole for Parquet.
std::int64_t header_record(const CsvReader& /*reader*/) { return 1; }
std::int64_t header_record(const ParquetReader& /*reader*/) { return 0; }

// Each symbol's rows in a price CSV, counted by a quick pass over its lines that looks at the symbol field only: the
// room each series takes. Empty when a line holds a quote (a quoted field can hide a delimiter or a line break, which
// this pass does not follow) or the file cannot be read as lines. The counts are hints: the parse checks every row.
std::unordered_map<std::string, std::size_t> count_symbol_rows(const std::filesystem::path& path, const CsvOptions& csv,
                                                               std::size_t width, std::optional<std::size_t> symbol_column,
                                                               const std::string& default_symbol) {
  std::unordered_map<std::string, std::size_t> counts;
  bool header = csv.header;
  std::string previous;
  std::size_t* previous_count = nullptr;
  try {
    internal::LineStream lines(path, "a price file");
    std::string_view line;
    while (lines.next(line)) {
      if (trim(line).empty()) {
        continue;  // blank lines are no records
      }
      if (header) {
        header = false;
        continue;
      }
      if (csv.quote != '\0' && line.find(csv.quote) != std::string_view::npos) {
        return {};
      }
      if (static_cast<std::size_t>(std::count(line.begin(), line.end(), csv.delimiter)) + 1 != width) {
        continue;  // a row of another width is no bar (the parse reports it): no room for it
      }
      std::string_view symbol = default_symbol;
      if (symbol_column) {
        for (std::size_t k = 0; k < *symbol_column; ++k) {
          line.remove_prefix(line.find(csv.delimiter) + 1);  // the row has its width
        }
        symbol = trim(line.substr(0, line.find(csv.delimiter)));
      }
      if (previous_count == nullptr || symbol != previous) {
        previous.assign(symbol);
        previous_count = &counts[previous];  // an unordered_map's elements stay where they are
      }
      ++*previous_count;
    }
  } catch (const Error&) {
    return {};  // the parse reports what is wrong with the file
  }
  return counts;
}

}  // namespace

std::optional<std::size_t> PriceSeries::index_of(Date date) const {
  const auto it = std::lower_bound(dates.begin(), dates.end(), date);
  if (it == dates.end() || *it != date) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - dates.begin());
}

std::optional<std::size_t> PriceSeries::index_at_or_before(Date date) const {
  const auto it = std::upper_bound(dates.begin(), dates.end(), date);
  if (it == dates.begin()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - dates.begin()) - 1;
}

std::optional<std::size_t> PriceSeries::index_after(Date date) const {
  const auto it = std::upper_bound(dates.begin(), dates.end(), date);
  if (it == dates.end()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - dates.begin());
}

PricePanel PricePanel::load(const std::filesystem::path& path, const PriceCsvOptions& options) {
  return is_parquet_path(path) ? load_parquet(path, options) : load_csv(path, options);
}

PricePanel PricePanel::load_csv(const std::filesystem::path& path, const PriceCsvOptions& options) {
  CsvReader reader = CsvReader::open(path, options.csv);
  const auto counts = count_symbol_rows(path, options.csv, reader.header().size(),
                                        reader.find_column(options.columns.symbol), options.default_symbol);
  return read(reader, options, &counts);
}

PricePanel PricePanel::load_parquet(const std::filesystem::path& path, const PriceCsvOptions& options) {
  ParquetReader reader = ParquetReader::open(path);
  return read(reader, options, nullptr);
}

template <class Reader>
PricePanel PricePanel::read(Reader& reader, const PriceCsvOptions& options,
                            const std::unordered_map<std::string, std::size_t>* counts) {
  const std::string& file = reader.source();
  const PriceColumns& names = options.columns;

  const std::optional<std::size_t> symbol_column = reader.find_column(names.symbol);
  if (!symbol_column && options.default_symbol.empty()) {
    throw DataError(file, header_record(reader), names.symbol,
                    fmt::format("missing column{}; the header has {} (for a single-instrument file set "
                                "default_symbol)",
                                did_you_mean(names.symbol, reader.header()), quoted_list(reader.header())));
  }
  const std::size_t date_column = reader.require_column(names.date);
  const std::optional<std::size_t> adj_column = reader.find_column(names.adj_close);
  // open, high, low, close, adjusted close, volume
  const std::array<std::string, 6> field_names = {names.open,  names.high,
                                                  names.low,   names.close,
                                                  adj_column ? names.adj_close : names.close, names.volume};
  std::array<std::size_t, 6> columns{};
  for (std::size_t i = 0; i < field_names.size(); ++i) {
    columns[i] = reader.require_column(field_names[i]);
  }

  PricePanel panel;
  BadRecordLog bad(options.errors);
  struct Building {
    PriceSeries series;
    std::int64_t last_line = 0;  // the line of the series' newest row
  };
  std::map<std::string, Building, std::less<>> building;
  Building* current = nullptr;  // rows of a symbol usually come together: the previous row's series
  CsvRecord record;
  while (reader.next(record, bad)) {
    ++panel.report_.rows;
    try {
      reader.expect_width(record);
      const std::string_view symbol = symbol_column ? trim(record[*symbol_column]) : options.default_symbol;
      if (symbol.empty()) {
        throw DataError(file, record.line, names.symbol, "the symbol is empty");
      }
      const std::string_view date_text = trim(record[date_column]);
      const auto date = parse_date(date_text);
      if (!date) {
        throw DataError(file, record.line, names.date, fmt::format("expected a date YYYY-MM-DD, got {}", quoted_value(date_text)));
      }
      bool is_missing = false;
      std::array<double, 6> values{};
      for (std::size_t i = 0; i < columns.size() && !is_missing; ++i) {
        const std::string_view text = trim(record[columns[i]]);
        if (internal::is_missing_marker(options.missing_values, text)) {
          is_missing = true;
          break;
        }
        values[i] = internal::bar_value(text, i < 5 ? internal::BarValue::price : internal::BarValue::volume, file,
                                        record.line, field_names[i]);
      }
      if (is_missing) {
        ++panel.report_.missing_rows;
        continue;
      }
      const auto [open, high, low, close, adj_close, volume] = values;
      internal::check_bar_consistent(open, high, low, close, file, record.line);
      if (current == nullptr || current->series.symbol != symbol) {
        auto it = building.find(symbol);
        if (it == building.end()) {
          it = building.emplace(std::string(symbol), Building{}).first;
          PriceSeries& added = it->second.series;
          added.symbol = std::string(symbol);
          if (counts != nullptr) {
            const auto count = counts->find(added.symbol);
            if (count != counts->end()) {
              added.dates.reserve(count->second);
              for (auto* column :
                   {&added.open, &added.high, &added.low, &added.close, &added.adj_close, &added.volume}) {
                column->reserve(count->second);
              }
            }
          }
        }
        current = &it->second;
      }
      PriceSeries& series = current->series;
      if (!series.dates.empty() && series.dates.back() >= *date) {
        const auto previous_line = current->last_line;
        throw DataError(file, record.line, names.date,
                        series.dates.back() == *date
                            ? fmt::format("duplicate date {} for {} (first at {} {})", date->to_string(), symbol,
                                          record_unit(reader), previous_line)
                            : fmt::format("date {} for {} comes after {} ({} {}); rows of a symbol must be in "
                                          "increasing date order",
                                          date->to_string(), symbol, series.dates.back().to_string(),
                                          record_unit(reader), previous_line));
      }
      series.dates.push_back(*date);
      series.open.push_back(static_cast<float>(open));
      series.high.push_back(static_cast<float>(high));
      series.low.push_back(static_cast<float>(low));
      series.close.push_back(static_cast<float>(close));
      series.adj_close.push_back(static_cast<float>(adj_close));
      series.volume.push_back(static_cast<float>(volume));
      current->last_line = record.line;
    } catch (const DataError& e) {
      bad.add(e);
    }
  }
  panel.report_.bad_rows = bad.count();
  for (auto& [symbol, entry] : building) {
    // Grown by doubling while read without counts (or with rows missing or bad): the columns give back their spare
    // room (up to half of what they hold). Columns that took their counted room are left as they are.
    for (auto* column : {&entry.series.open, &entry.series.high, &entry.series.low, &entry.series.close,
                         &entry.series.adj_close, &entry.series.volume}) {
      column->shrink_to_fit();
    }
    entry.series.dates.shrink_to_fit();
    panel.add(std::move(entry.series));
  }
  if (panel.rows() == 0) {
    // Nothing to learn from: the header alone, or every row marked missing or skipped as bad.
    throw DataError(file, 0, "",
                    fmt::format("no price rows ({} row(s) marked missing, {} bad row(s) skipped)",
                                panel.report_.missing_rows, panel.report_.bad_rows));
  }
  auto log = logger();
  log->info("{}: {} bars of {} symbol(s){}{}", file, panel.rows(), panel.size(),
            panel.report_.missing_rows > 0 ? fmt::format(", {} row(s) marked missing skipped", panel.report_.missing_rows)
                                           : std::string(),
            adj_column ? std::string() : fmt::format(" (no '{}' column: adjusted close = close)", names.adj_close));
  bad.log_summary(file);
  return panel;
}

void PricePanel::add(PriceSeries series) {
  const std::size_t n = series.dates.size();
  FINFUSE_CHECK(!series.symbol.empty(), "PricePanel::add: the series has no symbol");
  if (series_.count(series.symbol) != 0) {
    throw Error(fmt::format("PricePanel::add: symbol '{}' is already in the panel", series.symbol));
  }
  for (const auto* column : {&series.open, &series.high, &series.low, &series.close, &series.adj_close, &series.volume}) {
    if (column->size() != n) {
      throw Error(fmt::format("PricePanel::add: the columns of '{}' differ in length ({} dates, a column of {})",
                              series.symbol, n, column->size()));
    }
  }
  for (std::size_t i = 1; i < n; ++i) {
    if (series.dates[i] <= series.dates[i - 1]) {
      throw Error(fmt::format("PricePanel::add: dates of '{}' are not strictly increasing at {} -> {}", series.symbol,
                              series.dates[i - 1].to_string(), series.dates[i].to_string()));
    }
  }
  std::string symbol = series.symbol;
  series_.emplace(std::move(symbol), std::move(series));
}

PricePanel PricePanel::filtered(const std::function<bool(Date)>& keep) const {
  PricePanel out;
  out.report_ = report_;
  for (const auto& [symbol, series] : series_) {
    PriceSeries kept;
    kept.symbol = symbol;
    for (std::size_t i = 0; i < series.size(); ++i) {
      if (!keep(series.dates[i])) {
        continue;
      }
      kept.dates.push_back(series.dates[i]);
      kept.open.push_back(series.open[i]);
      kept.high.push_back(series.high[i]);
      kept.low.push_back(series.low[i]);
      kept.close.push_back(series.close[i]);
      kept.adj_close.push_back(series.adj_close[i]);
      kept.volume.push_back(series.volume[i]);
    }
    out.series_.emplace(symbol, std::move(kept));
  }
  return out;
}

std::vector<std::string> PricePanel::symbols() const {
  std::vector<std::string> out;
  out.reserve(series_.size());
  for (const auto& entry : series_) {
    out.push_back(entry.first);
  }
  return out;
}

const PriceSeries& PricePanel::series(const std::string& symbol) const {
  const auto it = series_.find(symbol);
  if (it == series_.end()) {
    const auto known = symbols();
    throw Error(fmt::format("unknown symbol '{}'{}; the panel has {} symbol(s)", symbol, did_you_mean(symbol, known),
                            known.size()));
  }
  return it->second;
}

PriceSeries PricePanel::take(const std::string& symbol) {
  (void)series(symbol);  // the message for an unknown symbol
  auto node = series_.extract(symbol);
  return std::move(node.mapped());
}

std::int64_t PricePanel::rows() const {
  std::int64_t total = 0;
  for (const auto& entry : series_) {
    total += static_cast<std::int64_t>(entry.second.size());
  }
  return total;
}

std::pair<Date, Date> PricePanel::date_range() const {
  FINFUSE_CHECK(rows() > 0, "PricePanel::date_range: the panel is empty");
  Date first(std::numeric_limits<std::int32_t>::max());
  Date last(std::numeric_limits<std::int32_t>::min());
  for (const auto& entry : series_) {
    if (entry.second.size() > 0) {
      first = std::min(first, entry.second.dates.front());
      last = std::max(last, entry.second.dates.back());
    }
  }
  return {first, last};
}

std::vector<Date> PricePanel::calendar() const {
  // A flag a day between the first and the last: no copy of every bar's date to sort.
  std::optional<Date> first;
  std::optional<Date> last;
  for (const auto& entry : series_) {
    for (const Date day : entry.second.dates) {
      first = first ? std::min(*first, day) : day;
      last = last ? std::max(*last, day) : day;
    }
  }
  std::vector<Date> days;
  if (!first) {
    return days;
  }
  std::vector<char> traded(static_cast<std::size_t>(static_cast<std::int64_t>(*last - *first) + 1), 0);
  for (const auto& entry : series_) {
    for (const Date day : entry.second.dates) {
      traded[static_cast<std::size_t>(day - *first)] = 1;
    }
  }
  for (std::size_t k = 0; k < traded.size(); ++k) {
    if (traded[k] != 0) {
      days.push_back(*first + static_cast<std::int32_t>(k));
    }
  }
  return days;
}

}  // namespace finfuse::data
