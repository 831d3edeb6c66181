#include "finfuse/data/relation_graph.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"

#include <Eigen/Core>
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <unordered_map>

namespace finfuse::data {

RelationGraph RelationGraph::load_edge_list(const std::filesystem::path& path, const EdgeListOptions& options) {
  CsvReader reader = CsvReader::open(path, options.csv);
  const std::string& file = reader.source();
  const std::size_t source = reader.require_column(options.source_column);
  const std::size_t target = reader.require_column(options.target_column);
  const auto optional_column = [&](const std::string& name) {
    return name.empty() ? std::optional<std::size_t>() : reader.find_column(name);
  };
  const auto relation = optional_column(options.relation_column);
  const auto weight = optional_column(options.weight_column);
  const auto start = optional_column(options.start_column);
  const auto end = optional_column(options.end_column);
  const auto available = optional_column(options.available_column);

  RelationGraph graph;
  BadRecordLog bad(options.errors);
  std::int64_t self_loops = 0;
  CsvRecord record;
  while (reader.next(record, bad)) {
    try {
      reader.expect_width(record);
      Edge edge;
      edge.source = std::string(trim(record[source]));
      edge.target = std::string(trim(record[target]));
      if (edge.source.empty() || edge.target.empty()) {
        throw DataError(file, record.line, edge.source.empty() ? options.source_column : options.target_column,
                        "the entity is empty");
      }
      if (relation) {
        edge.relation = std::string(trim(record[*relation]));
      }
      if (weight) {
        const std::string_view text = trim(record[*weight]);
        const auto value = parse_number(text);
        if (!value || !std::isfinite(*value)) {
          throw DataError(file, record.line, options.weight_column,
                          fmt::format("expected a finite number, got '{}'", text));
        }
        edge.weight = static_cast<float>(*value);
      }
      const auto read_date = [&](const std::optional<std::size_t>& column, const std::string& name) {
        std::optional<Date> out;
        if (column) {
          const std::string_view text = trim(record[*column]);
          if (!text.empty()) {
            out = parse_date(text);
            if (!out) {
              throw DataError(file, record.line, name, fmt::format("expected a date YYYY-MM-DD, got '{}'", text));
            }
          }
        }
        return out;
      };
      edge.start = read_date(start, options.start_column);
      edge.end = read_date(end, options.end_column);
      if (edge.start && edge.end && !(*edge.start < *edge.end)) {
        throw DataError(file, record.line, options.end_column,
                        fmt::format("the edge ends ({}) before or when it starts ({})", edge.end->to_string(),
                                    edge.start->to_string()));
      }
      if (available) {
        const std::string_view when = trim(record[*available]);
        if (!when.empty()) {
          edge.available = parse_publication_instant(when);
          if (!edge.available) {
            throw DataError(file, record.line, options.available_column,
                            fmt::format("expected a date or timestamp, got '{}'", when));
          }
        }
      }
      if (edge.source == edge.target) {
        ++self_loops;
        continue;
      }
      if (!options.directed) {
        Edge reverse = edge;
        std::swap(reverse.source, reverse.target);
        graph.add(std::move(reverse));
      }
      graph.add(std::move(edge));
    } catch (const DataError& e) {
      bad.add(e);
    }
  }
  logger()->info("{}: {} edge(s){}", file, graph.edges_.size(),
                 self_loops > 0 ? fmt::format(", {} self-loop(s) dropped", self_loops) : std::string());
  bad.log_summary(file);
  return graph;
}

RelationGraph RelationGraph::load(const std::filesystem::path& path, const EdgeListOptions& options) {
  return options.format == "sector_table" ? from_sector_table(path) : load_edge_list(path, options);
}

RelationGraph RelationGraph::from_sector_table(const std::filesystem::path& path, const std::string& symbol_column,
                                               const std::string& sector_column, char delimiter) {
  CsvOptions csv;
  csv.delimiter = delimiter;
  CsvReader reader = CsvReader::open(path, csv);
  const std::size_t symbol = reader.require_column(symbol_column);
  const std::size_t sector = reader.require_column(sector_column);
  std::map<std::string, std::vector<std::string>> members;
  CsvRecord record;
  while (reader.next(record)) {
    reader.expect_width(record);
    std::string name(trim(record[symbol]));
    if (!name.empty() && name.front() == '$') {
      name.erase(0, 1);
    }
    const std::string group(trim(record[sector]));
    if (name.empty() || group.empty()) {
      throw DataError(reader.source(), record.line, name.empty() ? symbol_column : sector_column, "the value is empty");
    }
    members[group].push_back(name);
  }
  RelationGraph graph;
  for (const auto& [group, names] : members) {
    for (const auto& a : names) {
      for (const auto& b : names) {
        if (a != b) {
          graph.add(Edge{a, b, "sector:" + group, 1.0f, std::nullopt, std::nullopt, std::nullopt});
        }
      }
    }
  }
  logger()->info("{}: {} sector(s), {} directed edge(s)", reader.source(), members.size(), graph.edges_.size());
  return graph;
}

Timestamp Edge::visible_from() const {
  if (available) {
    return *available;
  }
  if (start) {
    return Timestamp::at(*start + 1);
  }
  return Timestamp(std::numeric_limits<std::int64_t>::min());
}

void RelationGraph::add(Edge edge) { edges_.push_back(std::move(edge)); }

GraphSnapshot RelationGraph::snapshot(const std::vector<std::string>& entities, Date day, Timestamp as_of) const {
  std::unordered_map<std::string, std::int64_t> index;
  for (std::size_t i = 0; i < entities.size(); ++i) {
    index.emplace(entities[i], static_cast<std::int64_t>(i));
  }
  GraphSnapshot out;
  for (const auto& edge : edges_) {
    if ((edge.start && day < *edge.start) || (edge.end && day >= *edge.end) || as_of < edge.visible_from()) {
      continue;
    }
    const auto s = index.find(edge.source);
    const auto t = index.find(edge.target);
    if (s == index.end() || t == index.end()) {
      continue;
    }
    out.source.push_back(s->second);
    out.target.push_back(t->second);
    out.weight.push_back(edge.weight);
  }
  return out;
}

GraphSnapshot correlation_graph(const PricePanel& prices, const std::vector<std::string>& entities, Timestamp as_of,
                                const MarketClock& clock, std::int64_t lookback, double threshold) {
  return correlation_graph(prices, prices.calendar(), entities, as_of, clock, lookback, threshold);
}

GraphSnapshot correlation_graph(const PricePanel& prices, const std::vector<Date>& panel_calendar,
                                const std::vector<std::string>& entities, Timestamp as_of, const MarketClock& clock,
                                std::int64_t lookback, double threshold) {
  FINFUSE_CHECK(lookback >= 2, "correlation graph: the lookback must be >= 2 returns, got ", lookback);
  FINFUSE_CHECK(threshold >= 0 && threshold <= 1, "correlation graph: the threshold must be in [0, 1], got ", threshold);
  // Align on the calendar of the last `lookback` + 1 trading days of the panel that closed by `as_of`.
  // The trading days whose close is known at `as_of`.
  const auto known = std::upper_bound(panel_calendar.begin(), panel_calendar.end(), as_of,
                                      [&](Timestamp t, Date day) { return t < clock.close(day); });
  const std::vector<Date> calendar(panel_calendar.begin(), known);
  GraphSnapshot out;
  if (static_cast<std::int64_t>(calendar.size()) < lookback + 1) {
    return out;
  }
  const std::vector<Date> window(calendar.end() - lookback - 1, calendar.end());
  std::vector<std::int64_t> members;
  Eigen::MatrixXd returns(lookback, static_cast<Eigen::Index>(entities.size()));
  for (std::size_t e = 0; e < entities.size(); ++e) {
    if (!prices.contains(entities[e])) {
      continue;
    }
    const PriceSeries& series = prices.series(entities[e]);
    bool complete = true;
    std::vector<double> closes;
    for (const Date day : window) {
      const auto i = series.index_of(day);
      if (!i) {
        complete = false;
        break;
      }
      closes.push_back(series.adj_close[*i]);
    }
    if (!complete) {
      continue;
    }
    const auto column = static_cast<Eigen::Index>(members.size());
    for (std::int64_t k = 0; k < lookback; ++k) {
      returns(k, column) = std::log(closes[static_cast<std::size_t>(k + 1)] / closes[static_cast<std::size_t>(k)]);
    }
    members.push_back(static_cast<std::int64_t>(e));
  }
  const auto m = static_cast<Eigen::Index>(members.size());
  if (m < 2) {
    return out;
  }
  Eigen::MatrixXd x = returns.leftCols(m);
  x.rowwise() -= x.colwise().mean();
  const Eigen::VectorXd sd = (x.array().square().colwise().sum() / static_cast<double>(lookback)).sqrt();
  const Eigen::MatrixXd covariance = (x.transpose() * x) / static_cast<double>(lookback);
  for (Eigen::Index a = 0; a < m; ++a) {
    for (Eigen::Index b = 0; b < m; ++b) {
      if (a == b || sd[a] <= 0 || sd[b] <= 0) {
        continue;
      }
      const double rho = covariance(a, b) / (sd[a] * sd[b]);
      if (std::abs(rho) >= threshold) {
        out.source.push_back(members[static_cast<std::size_t>(a)]);
        out.target.push_back(members[static_cast<std::size_t>(b)]);
        out.weight.push_back(static_cast<float>(rho));
      }
    }
  }
  return out;
}

}  // namespace finfuse::data
