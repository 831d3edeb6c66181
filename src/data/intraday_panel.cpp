// Intraday bars read in two streaming passes: the first counts each symbol's rows, so that the second writes every
// bar straight to its place in exactly sized columns. Memory holds the bars and a read buffer, not the file, which
// for a year of minute bars of 500 stocks is three times the bars' size as text.
#include "finfuse/data/intraday_panel.h"

#include "finfuse/core/default_init_allocator.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/encoding.h"

#include "bar_checks.h"
#include "line_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <unordered_map>

namespace finfuse::data {
namespace {

using internal::LineStream;

// Splits `line` at `delimiter` into `fields` (trimmed, surrounding double quotes removed).
void split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields) {
  fields.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t stop = line.find(delimiter, start);
    std::string_view field = trim(line.substr(start, stop == std::string_view::npos ? std::string_view::npos : stop - start));
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
      field = field.substr(1, field.size() - 2);
    }
    fields.push_back(field);
    if (stop == std::string_view::npos) {
      return;
    }
    start = stop + 1;
  }
}

// Field `index` of `line` as split_fields() gives it, when the line has `width` fields; nothing otherwise. Reads the
// line once without splitting it.
std::optional<std::string_view> field_of_row(std::string_view line, char delimiter, std::size_t index, std::size_t width) {
  std::size_t start = 0;
  for (std::size_t f = 0; f < index; ++f) {
    start = line.find(delimiter, start);
    if (start == std::string_view::npos) {
      return std::nullopt;
    }
    ++start;
  }
  const std::size_t stop = line.find(delimiter, start);
  const std::size_t rest = stop == std::string_view::npos
                               ? 0
                               : 1 + static_cast<std::size_t>(std::count(line.begin() + static_cast<std::ptrdiff_t>(stop) + 1,
                                                                         line.end(), delimiter));
  if (index + 1 + rest != width) {
    return std::nullopt;
  }
  std::string_view field = trim(line.substr(start, stop == std::string_view::npos ? std::string_view::npos : stop - start));
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    field = field.substr(1, field.size() - 2);
  }
  return field;
}

// The header's columns: the file's names, and where each of ours is.
struct Layout {
  std::size_t width = 0;
  std::size_t symbol = 0;
  std::size_t time = 0;
  std::array<std::size_t, 5> values{};  // open, high, low, close, volume
};

Layout read_header(LineStream& lines, const std::string& file, const IntradayCsvOptions& options) {
  std::string_view line;
  if (!lines.next(line)) {
    throw DataError(file, 0, "", "empty file: expected a header line");
  }
  line.remove_prefix(byte_order_mark_length(line, file));
  std::vector<std::string_view> fields;
  split_fields(line, options.delimiter, fields);
  const std::vector<std::string> header(fields.begin(), fields.end());
  const auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      throw DataError(file, 1, name,
                      fmt::format("missing column{}; the header has {}", did_you_mean(name, header), quoted_list(header)));
    }
    return static_cast<std::size_t>(it - header.begin());
  };
  const IntradayColumns& names = options.columns;
  Layout layout;
  layout.width = header.size();
  layout.symbol = column(names.symbol);
  layout.time = column(names.time);
  layout.values = {column(names.open), column(names.high), column(names.low), column(names.close), column(names.volume)};
  return layout;
}

}  // namespace

void IntradayCsvOptions::validate(const Config& config) const {
  if (delimiter == '\0' || delimiter == '\n' || delimiter == '\r' || delimiter == '"' || delimiter == ' ') {
    config.fail_at("delimiter", "must be a character that separates fields (',', ';', '|', a tab, ...): not none, a "
                                "line end, a quote or a space");
  }
}

std::optional<std::size_t> IntradayPanel::find(const std::string& symbol) const {
  const auto it = std::lower_bound(symbols_.begin(), symbols_.end(), symbol);
  if (it == symbols_.end() || *it != symbol) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - symbols_.begin());
}

std::optional<std::int64_t> IntradayPanel::last_known(std::size_t s, Timestamp t) const {
  const std::int64_t* first = times_.data() + begin(s);
  const std::int64_t* last = times_.data() + end(s);
  const std::int64_t* after = std::upper_bound(first, last, t.seconds());
  if (after == first) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(after - times_.data()) - 1;
}

IntradayPanel IntradayPanel::load_csv(const std::filesystem::path& path, const IntradayCsvOptions& options) {
  const std::string file = path.string();
  const IntradayColumns& names = options.columns;
  const std::array<const std::string*, 5> value_names = {&names.open, &names.high, &names.low, &names.close,
                                                        &names.volume};
  std::vector<std::string_view> fields;
  std::string_view line;

  // Pass 1: rows per symbol. Rows of a symbol come in runs: the previous row's count is checked first.
  std::unordered_map<std::string, std::int64_t> counts;
  {
    LineStream lines(path, "an intraday bar file");
    const Layout layout = read_header(lines, file, options);
    std::int64_t* current = nullptr;
    std::string current_symbol;
    while (lines.next(line)) {
      if (trim(line).empty()) {
        continue;
      }
      const auto field = field_of_row(line, options.delimiter, layout.symbol, layout.width);
      if (!field || field->empty()) {
        continue;  // reported by the second pass
      }
      const std::string_view symbol = *field;
      if (current == nullptr || symbol != current_symbol) {
        current_symbol.assign(symbol);
        current = &counts[current_symbol];
      }
      ++*current;
    }
  }

  IntradayPanel panel;
  panel.symbols_.reserve(counts.size());
  for (const auto& [symbol, count] : counts) {
    panel.symbols_.push_back(symbol);
  }
  std::sort(panel.symbols_.begin(), panel.symbols_.end());
  std::unordered_map<std::string, std::size_t> index;
  panel.offsets_.assign(1, 0);
  for (std::size_t s = 0; s < panel.symbols_.size(); ++s) {
    index.emplace(panel.symbols_[s], s);
    panel.offsets_.push_back(panel.offsets_.back() + counts[panel.symbols_[s]]);
  }
  counts.clear();
  const auto capacity = static_cast<std::size_t>(panel.offsets_.back());
  UninitializedVector<std::int64_t> times(capacity);
  UninitializedVector<float> values(capacity * kValues);

  // Pass 2: the bars, each written to the next free row of its symbol.
  std::vector<std::int64_t> next_row(panel.offsets_.begin(), panel.offsets_.end() - 1);
  std::vector<std::int64_t> last_line(panel.symbols_.size(), 0);
  BadRecordLog bad(options.errors);
  const std::int64_t delay = options.stamp == "start" ? options.bar_seconds : 0;
  {
    LineStream lines(path, "an intraday bar file");
    const Layout layout = read_header(lines, file, options);
    std::size_t s = 0;
    std::string current_symbol;
    bool have_symbol = false;
    while (lines.next(line)) {
      if (trim(line).empty()) {
        continue;
      }
      ++panel.report_.rows;
      const std::int64_t line_number = lines.line();
      try {
        split_fields(line, options.delimiter, fields);
        if (fields.size() != layout.width) {
          throw DataError(file, line_number, "",
                          fmt::format("expected {} fields (as in the header), got {}", layout.width, fields.size()));
        }
        const std::string_view symbol = fields[layout.symbol];
        if (symbol.empty()) {
          throw DataError(file, line_number, names.symbol, "the symbol is empty");
        }
        if (!have_symbol || symbol != current_symbol) {
          if (const auto invalid = find_invalid_utf8(symbol)) {
            throw DataError(file, line_number, names.symbol,
                            fmt::format("the symbol is not valid UTF-8 (byte {})", *invalid + 1));
          }
          const auto it = index.find(std::string(symbol));
          if (it == index.end()) {
            throw DataError(file, line_number, names.symbol,
                            fmt::format("symbol {} was not there when the file was first read: the file changed while "
                                        "it was read",
                                        quoted_value(symbol)));
          }
          current_symbol.assign(symbol);
          s = it->second;
          have_symbol = true;
        }
        const std::string_view time_text = fields[layout.time];
        const auto time = parse_timestamp(time_text);
        if (!time) {
          throw DataError(file, line_number, names.time,
                          fmt::format("expected an instant (ISO 8601, e.g. 2024-01-02T14:31:00Z), got {}",
                                      quoted_value(time_text)));
        }
        std::array<double, 5> bar{};
        bool is_missing = false;
        for (std::size_t v = 0; v < 5; ++v) {
          const std::string_view text = fields[layout.values[v]];
          if (internal::is_missing_marker(options.missing_values, text)) {
            is_missing = true;
            break;
          }
          const std::string& column = *value_names[v];
          const double value = internal::bar_value(text, v < 4 ? internal::BarValue::price : internal::BarValue::volume,
                                                   file, line_number, column);
          bar[v] = value;
        }
        if (is_missing) {
          ++panel.report_.missing_rows;
          continue;
        }
        const auto [open, high, low, close, volume] = bar;
        internal::check_bar_consistent(open, high, low, close, file, line_number);
        if (time->seconds() > std::numeric_limits<std::int64_t>::max() - delay) {
          throw DataError(file, line_number, names.time, fmt::format("the instant {} is out of range", quoted_value(time_text)));
        }
        const std::int64_t known = time->seconds() + delay;
        std::int64_t& row = next_row[s];
        if (row > panel.offsets_[s]) {
          const std::int64_t previous = times[static_cast<std::size_t>(row - 1)];
          if (previous >= known) {
            throw DataError(file, line_number, names.time,
                            previous == known
                                ? fmt::format("duplicate time {} for {} (first at line {})", time->to_string(),
                                              current_symbol, last_line[s])
                                : fmt::format("time {} for {} comes before that of line {}; rows of a symbol must be "
                                              "in increasing time order",
                                              time->to_string(), current_symbol, last_line[s]));
          }
        }
        if (row >= panel.offsets_[s + 1]) {
          throw DataError(file, line_number, names.symbol,
                          fmt::format("more rows of {} than when the file was first read: the file changed while it "
                                      "was read",
                                      current_symbol));
        }
        const auto r = static_cast<std::size_t>(row);
        times[r] = known;
        float* out = values.data() + r * kValues;
        for (std::size_t v = 0; v < 5; ++v) {
          out[v] = static_cast<float>(bar[v]);
        }
        last_line[s] = line_number;
        ++row;
      } catch (const DataError& e) {
        bad.add(e);
      }
    }
  }
  panel.report_.bad_rows = bad.count();

  // Rows skipped as missing or bad leave gaps at the ends of their symbols' ranges: the ranges move together.
  std::int64_t write = 0;
  for (std::size_t s = 0; s < panel.symbols_.size(); ++s) {
    const std::int64_t first = panel.offsets_[s];
    const std::int64_t n = next_row[s] - first;
    if (write != first) {
      std::memmove(times.data() + write, times.data() + first, static_cast<std::size_t>(n) * sizeof(std::int64_t));
      std::memmove(values.data() + write * kValues, values.data() + first * kValues,
                   static_cast<std::size_t>(n * kValues) * sizeof(float));
    }
    panel.offsets_[s] = write;
    write += n;
  }
  panel.offsets_.back() = write;
  // Symbols left without bars (every row of theirs skipped) are dropped.
  for (std::size_t s = panel.symbols_.size(); s-- > 0;) {
    if (panel.offsets_[s] == panel.offsets_[s + 1]) {
      panel.symbols_.erase(panel.symbols_.begin() + static_cast<std::ptrdiff_t>(s));
      panel.offsets_.erase(panel.offsets_.begin() + static_cast<std::ptrdiff_t>(s));
    }
  }
  times.resize(static_cast<std::size_t>(write));
  values.resize(static_cast<std::size_t>(write * kValues));
  if (write == 0) {
    throw DataError(file, 0, "",
                    fmt::format("no intraday bars ({} row(s) marked missing, {} bad row(s) skipped)",
                                panel.report_.missing_rows, panel.report_.bad_rows));
  }
  panel.times_ = std::move(times);
  panel.values_ = std::move(values);
  logger()->info("{}: {} intraday bars of {} symbol(s){}", file, write, panel.symbols_.size(),
                 panel.report_.missing_rows > 0
                     ? fmt::format(", {} row(s) marked missing skipped", panel.report_.missing_rows)
                     : std::string());
  bad.log_summary(file);
  return panel;
}

}  // namespace finfuse::data
