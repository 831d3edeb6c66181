// Relations between entities, point in time: edge lists with optional validity intervals, same-sector graphs from a
// symbol -> sector table, and rolling return-correlation graphs computed from past prices only.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/bad_records.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/market_clock.h"
#include "finfuse/data/price_panel.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

struct Edge {
  std::string source;
  std::string target;
  std::string relation;
  float weight = 1.0f;
  /// Valid on days start <= day < end; unbounded when absent.
  std::optional<Date> start;
  std::optional<Date> end;
  /// The instant the edge became public (its "available" column); absent: midnight UTC after its start day, or
  /// always for an edge without a start.
  std::optional<Timestamp> available;

  /// The first instant a decision may use the edge: `available`, else midnight UTC after `start` (an edge dated on
  /// the decision day is not known at that day's open or close), else the beginning of time.
  Timestamp visible_from() const;
};

struct EdgeListOptions {
#define FINFUSE_EDGE_LIST_FIELDS(F)                                                                               \
  F(std::string, format, "edges", ::finfuse::FieldRule::one_of({"edges", "sector_table"}),                        \
    "the file's layout: an edge list (the columns below), or a sector table (tab-separated Symbol and Sector columns, as StockNet's StockTable) linking the symbols of each sector") \
  F(std::string, source_column, "source", {}, "the source entity's column")                                      \
  F(std::string, target_column, "target", {}, "the target entity's column")                                      \
  F(std::string, relation_column, "relation", {}, "the relation's column (optional: empty or absent is unused)") \
  F(std::string, weight_column, "weight", {}, "the weight's column (optional)")                                   \
  F(std::string, start_column, "start", {}, "the first day the edge exists (optional)")                          \
  F(std::string, end_column, "end", {}, "the day it stops: it exists on days start <= day < end (optional)")     \
  F(std::string, available_column, "available", {},                                                                \
    "the instant the edge became public, a date or a timestamp (optional; a date alone: from the next midnight UTC; "  \
    "without it, an edge with a start day is public from midnight UTC after that day)")                           \
  F(bool, directed, false, {}, "undirected edges are stored in both directions")                                  \
  F(CsvOptions, csv, {}, {}, "the CSV dialect")                                                                   \
  F(ErrorMode, errors, ErrorMode::strict, {}, "malformed rows: stop at the first (strict) or skip and count them (lenient)")
  FINFUSE_FIELDS(EdgeListOptions, FINFUSE_EDGE_LIST_FIELDS)
#undef FINFUSE_EDGE_LIST_FIELDS
};


/// The edges among a list of entities on one day: indices into that list.
struct GraphSnapshot {
  std::vector<std::int64_t> source;
  std::vector<std::int64_t> target;
  std::vector<float> weight;
  std::size_t edges() const { return source.size(); }
};

class RelationGraph {
 public:
  RelationGraph() = default;

  /// Reads the file in the layout `options.format` names: load_edge_list() or from_sector_table().
  static RelationGraph load(const std::filesystem::path& path, const EdgeListOptions& options = {});

  /// Reads source,target[,relation][,weight][,start,end][,available]. Self-loops are dropped (fusion layers add their
  /// own); non-finite weights, bad dates and instants, and end <= start are DataErrors naming file, line and field.
  static RelationGraph load_edge_list(const std::filesystem::path& path, const EdgeListOptions& options = {});

  /// Links every pair of symbols in the same sector. The table has a symbol and a sector column (StockNet's
  /// StockTable: tab-separated "Sector, Symbol, Company" with symbols written "$XOM"; a leading '$' is removed).
  static RelationGraph from_sector_table(const std::filesystem::path& path, const std::string& symbol_column = "Symbol",
                                         const std::string& sector_column = "Sector", char delimiter = '\t');

  void add(Edge edge);
  const std::vector<Edge>& edges() const { return edges_; }

  /// The edges among `entities` that exist on `day` and are public at the decision instant `as_of` (the lookahead
  /// rule of graph edges: Edge::visible_from() <= as_of); entities without edges simply have none.
  GraphSnapshot snapshot(const std::vector<std::string>& entities, Date day, Timestamp as_of) const;

 private:
  std::vector<Edge> edges_;
};

/// Links pairs of `entities` whose daily log returns over the last `lookback` bars that closed at or before `as_of`
/// correlate with |rho| >= threshold (weight rho). Only entities with a full window are linked. Point in time: no
/// bar after `as_of` is read.
GraphSnapshot correlation_graph(const PricePanel& prices, const std::vector<std::string>& entities, Timestamp as_of,
                                const MarketClock& clock, std::int64_t lookback, double threshold);
/// The same with the panel's calendar (PricePanel::calendar()) computed once by the caller, for many dates.
GraphSnapshot correlation_graph(const PricePanel& prices, const std::vector<Date>& calendar,
                                const std::vector<std::string>& entities, Timestamp as_of, const MarketClock& clock,
                                std::int64_t lookback, double threshold);

}  // namespace finfuse::data
