// A synthetic equity universe with a planted signal, at any size: daily bars of N stocks over Y years of NYSE sessions,
// sectors and a relation graph, texts published before the open whose words carry a known part of that day's move,
// and optionally minute bars. The files are those finfuse reads, with a data configuration for them, so that tests
// and benchmarks can check that a model finds the signal and measure how time and memory grow with the data.
//
// A stock's log return on session t is  beta_i * m_t + g_{sector(i),t} + s_{i,t} + e_{i,t}:  market, sector and
// idiosyncratic draws (normal), and the planted part s_{i,t} = text_signal * idiosyncratic_volatility * z_{i,t}, where
// z_{i,t} is +1 or -1 when a text about the stock was published between the close of t-1 and the open of t (with
// probability texts_per_day; its words then include one of a few positive or negative words), 0 otherwise. The open
// moves with the market and the sector only, so the planted part is in the day's open-to-close move and nothing
// before the open but the text reveals it. truth.json gives the information coefficient an oracle that knows s
// reaches on these draws: the ceiling for any model.
//
//   auto report = generate_universe(UniverseOptions().stocks(50).years(2), "universe");
//   // universe/prices.csv, texts.jsonl, graph.csv, sectors.csv, data.json, truth.json
//
// Files are written while drawing, one session at a time (memory grows with the stocks, not the sessions), each to a
// temporary name renamed into place when complete.
#pragma once

#include "finfuse/core/options.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace finfuse::data {

struct UniverseOptions {
#define FINFUSE_UNIVERSE_FIELDS(F)                                                                                 \
  F(std::int64_t, stocks, 500, ::finfuse::Range::closed(2, 1000000), "the number of stocks")                       \
  F(double, years, 10.0, ::finfuse::Range::closed(0.01, 200), "the span in years (NYSE sessions)")                \
  F(std::string, start, "2005-01-03", {}, "the first day (YYYY-MM-DD)")                                           \
  F(std::int64_t, sectors, 10, ::finfuse::Range::closed(1, 10000), "the number of sectors")                       \
  F(std::int64_t, peers, 3, ::finfuse::Range::closed(0, 1000),                                                     \
    "relation graph: edges from each stock to this many others of its sector")                                   \
  F(double, market_volatility, 0.01, ::finfuse::Range::non_negative(), "daily standard deviation of the market")  \
  F(double, sector_volatility, 0.008, ::finfuse::Range::non_negative(), "daily standard deviation of a sector")   \
  F(double, idiosyncratic_volatility, 0.015, ::finfuse::Range::positive(),                                        \
    "daily standard deviation of a stock's own move")                                                             \
  F(double, texts_per_day, 0.3, ::finfuse::Range::closed(0, 1), "the probability of a text per stock and session") \
  F(double, text_signal, 0.5, ::finfuse::Range::closed(0, 100),                                                   \
    "the planted move of a text, in idiosyncratic standard deviations")                                          \
  F(std::int64_t, words_per_text, 12, ::finfuse::Range::closed(1, 1000), "words per text")                        \
  F(std::int64_t, minute_days, 0, ::finfuse::Range::closed(0, 100000),                                            \
    "minute bars (390 per session) for the last this many sessions, in minute.csv (0: none)")                    \
  F(std::uint64_t, seed, 7, {}, "the random seed: the same options and seed give the same files")
  FINFUSE_OPTIONS(UniverseOptions, FINFUSE_UNIVERSE_FIELDS)
#undef FINFUSE_UNIVERSE_FIELDS

 public:
  /// A start that is a date, and no more sectors than stocks.
  void validate(const Config& config) const;
};

/// What generate_universe wrote, and the planted signal's strength on these draws.
struct UniverseReport {
  std::int64_t sessions = 0;
  std::int64_t bars = 0;
  std::int64_t texts = 0;
  std::int64_t edges = 0;
  std::int64_t minute_bars = 0;
  std::int64_t bytes = 0;
  Date first;
  Date last;
  /// Mean over sessions of the cross-sectional Pearson and Spearman correlation between the planted part s and the
  /// session's close-to-close simple return: the information coefficient of an oracle.
  double oracle_ic = 0.0;
  double oracle_rank_ic = 0.0;
  /// The planted part's share of the cross-sectional variance of the session's log returns, mean over sessions.
  double share_of_variance = 0.0;
};

/// Writes the universe into `out_dir` (created if needed): prices.csv (symbol,date,open,high,low,close,adj_close,
/// volume), texts.jsonl (symbol, created_at in UTC, text), graph.csv (source,target,relation,weight,start),
/// sectors.csv (symbol,sector), minute.csv (symbol,time,open,high,low,close,volume; with minute_days), data.json (a
/// data configuration of prices, texts and graph with a cross-sectional return label and a chronological split) and
/// truth.json (the options and the report). Throws finfuse::Error for options that cannot be met or a file that
/// cannot be written.
UniverseReport generate_universe(const UniverseOptions& options, const std::filesystem::path& out_dir);

}  // namespace finfuse::data
