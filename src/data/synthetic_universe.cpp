#include "finfuse/data/synthetic_universe.h"

#include "finfuse/core/error.h"
#include "finfuse/core/config.h"
#include "finfuse/core/logging.h"
#include "finfuse/data/exchange_calendar.h"
#include "finfuse/data/market_clock.h"
#include "finfuse/evaluation/correlation.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <numeric>
#include <vector>

namespace finfuse::data {

namespace {

// xoshiro256** seeded by splitmix64, and normals by Box-Muller: the same draws on every platform and standard
// library for a seed.
class UniverseRng {
 public:
  explicit UniverseRng(std::uint64_t seed) {
    for (auto& s : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, n).
  std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0;
    do {
      u = uniform();
    } while (u <= 0.0);
    const double v = uniform();
    const double r = std::sqrt(-2.0 * std::log(u));
    spare_ = r * std::sin(2.0 * M_PI * v);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * v);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

constexpr std::array<const char*, 48> kNeutralWords = {
    "shares",  "stock",    "traders",  "market",   "session", "volume",    "analysts", "investors",
    "company", "quarter",  "guidance", "earnings", "revenue", "outlook",   "sector",   "index",
    "today",   "week",     "report",   "call",     "price",   "target",    "chart",    "options",
    "fund",    "position", "holders",  "board",    "meeting", "statement", "filing",   "update",
    "open",    "close",    "futures",  "dividend", "buyback", "margin",    "supply",   "demand",
    "product", "launch",   "segment",  "growth",   "costs",   "consensus", "rating",   "note"};
constexpr std::array<const char*, 6> kPositiveWords = {"beats", "upgrade", "raises", "record", "surges", "outperform"};
constexpr std::array<const char*, 6> kNegativeWords = {"misses", "downgrade", "cuts", "lawsuit", "plunges",
                                                       "underperform"};

// A file written through a buffer to a temporary name, renamed into place by commit().
class UniverseFile {
 public:
  UniverseFile(std::filesystem::path path) : path_(std::move(path)), tmp_(path_.string() + ".tmp") {
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) {
      throw Error(fmt::format("cannot write {}", tmp_.string()));
    }
  }
  fmt::memory_buffer& buffer() { return buffer_; }
  void flush_if_full() {
    if (buffer_.size() >= (std::size_t{4} << 20)) {
      flush();
    }
  }
  std::int64_t commit() {
    flush();
    out_.close();
    if (!out_) {
      throw Error(fmt::format("cannot write {} (disk full?)", tmp_.string()));
    }
    std::filesystem::rename(tmp_, path_);
    return bytes_;
  }

 private:
  void flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    if (!out_) {
      throw Error(fmt::format("cannot write {} (disk full?)", tmp_.string()));
    }
    bytes_ += static_cast<std::int64_t>(buffer_.size());
    buffer_.clear();
  }
  std::filesystem::path path_;
  std::filesystem::path tmp_;
  std::ofstream out_;
  fmt::memory_buffer buffer_;
  std::int64_t bytes_ = 0;
};

// A price as written: four decimals.
double written(double price) { return std::round(price * 1e4) / 1e4; }

double variance(const std::vector<double>& x) {
  const auto n = static_cast<double>(x.size());
  const double m = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double s = 0.0;
  for (const double v : x) {
    s += (v - m) * (v - m);
  }
  return s / n;
}

}  // namespace

void UniverseOptions::validate(const Config& config) const {
  if (!parse_date(start())) {
    config.fail_at("start", fmt::format("expected a date YYYY-MM-DD, got \"{}\"", start()));
  }
  if (sectors() > stocks()) {
    config.fail_at("sectors", fmt::format("must be at most the {} stocks (a sector needs a stock), got {}", stocks(),
                                          sectors()));
  }
}

UniverseReport generate_universe(const UniverseOptions& options, const std::filesystem::path& out_dir) {
  const auto start_time = std::chrono::steady_clock::now();
  const auto first_day = parse_date(options.start());
  if (!first_day) {
    throw Error(fmt::format("universe: start '{}' is not a date (YYYY-MM-DD)", options.start()));
  }
  if (options.sectors() > options.stocks()) {
    throw Error(fmt::format("universe: {} sectors for {} stocks; a sector needs a stock", options.sectors(),
                            options.stocks()));
  }
  const MarketClock clock{MarketClockOptions()};
  const ExchangeCalendar& calendar = *clock.calendar();
  const Date last_day = *first_day + static_cast<std::int32_t>(std::llround(options.years() * 365.25)) - 1;
  const std::vector<Date> sessions = calendar.sessions(*first_day, last_day);
  if (sessions.size() < 2) {
    throw Error(fmt::format("universe: {} to {} holds {} NYSE session(s); at least 2 are needed",
                            first_day->to_string(), last_day.to_string(), sessions.size()));
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    throw Error(fmt::format("universe: cannot create {}: {}", out_dir.string(), ec.message()));
  }

  const auto n = static_cast<std::size_t>(options.stocks());
  const int width = static_cast<int>(std::to_string(n).size());
  UniverseRng rng(options.seed());
  std::vector<std::string> symbols(n);
  std::vector<std::size_t> sector(n);
  std::vector<double> beta(n);
  std::vector<double> log_close(n);
  std::vector<double> base_volume(n);
  std::vector<double> close_written(n);
  for (std::size_t i = 0; i < n; ++i) {
    symbols[i] = fmt::format("S{:0{}d}", i + 1, width);
    sector[i] = i % static_cast<std::size_t>(options.sectors());
    beta[i] = 0.6 + 0.8 * rng.uniform();
    log_close[i] = std::log(10.0) + rng.uniform() * std::log(20.0);
    base_volume[i] = std::exp(std::log(1e5) + rng.uniform() * std::log(100.0));
    close_written[i] = written(std::exp(log_close[i]));
  }

  UniverseReport report;
  report.first = sessions.front();
  report.last = sessions.back();

  // Sectors and the relation graph: `peers` random others of the same sector, a quarter of them starting later.
  {
    UniverseFile file(out_dir / "sectors.csv");
    fmt::format_to(std::back_inserter(file.buffer()), "symbol,sector\n");
    for (std::size_t i = 0; i < n; ++i) {
      fmt::format_to(std::back_inserter(file.buffer()), "{},sector{}\n", symbols[i], sector[i] + 1);
    }
    report.bytes += file.commit();
  }
  {
    UniverseFile file(out_dir / "graph.csv");
    fmt::format_to(std::back_inserter(file.buffer()), "source,target,relation,weight,start\n");
    const auto sectors = static_cast<std::size_t>(options.sectors());
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t members = (n - sector[i] + sectors - 1) / sectors;  // stocks s, s + S, s + 2S, ... below n
      const auto peers = std::min<std::size_t>(static_cast<std::size_t>(options.peers()), members - 1);
      for (std::size_t k = 0; k < peers; ++k) {
        std::size_t j = i;
        while (j == i) {
          j = sector[i] + sectors * static_cast<std::size_t>(rng.below(members));
        }
        const Date start = rng.uniform() < 0.25 ? sessions[rng.below(sessions.size())] : sessions.front();
        fmt::format_to(std::back_inserter(file.buffer()), "{},{},sector_peer,1,{}\n", symbols[i], symbols[j],
                       start.to_string());
        ++report.edges;
      }
      file.flush_if_full();
    }
    report.bytes += file.commit();
  }

  UniverseFile prices(out_dir / "prices.csv");
  UniverseFile texts(out_dir / "texts.jsonl");
  std::unique_ptr<UniverseFile> minutes;
  fmt::format_to(std::back_inserter(prices.buffer()), "symbol,date,open,high,low,close,adj_close,volume\n");
  const std::size_t minute_from =
      sessions.size() - std::min(sessions.size(), static_cast<std::size_t>(options.minute_days()));
  if (options.minute_days() > 0) {
    minutes = std::make_unique<UniverseFile>(out_dir / "minute.csv");
    fmt::format_to(std::back_inserter(minutes->buffer()), "symbol,time,open,high,low,close,volume\n");
  }

  const double sigma_e = options.idiosyncratic_volatility();
  const double planted = options.text_signal() * sigma_e;
  std::vector<double> signal(n);
  std::vector<double> log_return(n);
  std::vector<double> simple_return(n);
  std::vector<double> sector_move(static_cast<std::size_t>(options.sectors()));
  std::vector<double> path(391);
  double ic_sum = 0.0;
  double rank_ic_sum = 0.0;
  double share_sum = 0.0;
  std::int64_t scored = 0;
  Timestamp previous_close = clock.open(sessions.front()) + (-8 * 3600);
  for (std::size_t t = 0; t < sessions.size(); ++t) {
    const Date day = sessions[t];
    const Timestamp open = clock.open(day);
    const Timestamp close = clock.close(day);
    const double market = options.market_volatility() * rng.normal();
    for (auto& g : sector_move) {
      g = options.sector_volatility() * rng.normal();
    }
    const bool with_minutes = minutes != nullptr && t >= minute_from;
    for (std::size_t i = 0; i < n; ++i) {
      // The text, if any, published between the previous close and this open.
      double z = 0.0;
      if (rng.uniform() < options.texts_per_day()) {
        z = rng.uniform() < 0.5 ? 1.0 : -1.0;
        const auto span = std::max<std::int64_t>(open - previous_close - 120, 1);
        const Timestamp at = previous_close + 60 + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(span)));
        auto& out = texts.buffer();
        fmt::format_to(std::back_inserter(out), R"({{"symbol":"{}","created_at":"{}","text":"${})", symbols[i],
                       at.to_string(), symbols[i]);
        const auto sentiment_at = rng.below(static_cast<std::uint64_t>(options.words_per_text()));
        for (std::int64_t w = 0; w < options.words_per_text(); ++w) {
          const char* word = static_cast<std::uint64_t>(w) == sentiment_at
                                 ? (z > 0 ? kPositiveWords[rng.below(kPositiveWords.size())]
                                          : kNegativeWords[rng.below(kNegativeWords.size())])
                                 : kNeutralWords[rng.below(kNeutralWords.size())];
          fmt::format_to(std::back_inserter(out), " {}", word);
        }
        fmt::format_to(std::back_inserter(out), "\"}}\n");
        ++report.texts;
      }
      signal[i] = planted * z;
      const double common = beta[i] * market + sector_move[sector[i]];
      // The open moves with the market and the sector (a third of their move) and overnight noise; the rest of the
      // day's move, the planted part included, comes after the open.
      const double overnight = common / 3.0 + 0.25 * sigma_e * rng.normal();
      const double r = common + signal[i] + sigma_e * rng.normal();
      const double log_open = log_close[i] + overnight;
      const double new_log_close = log_close[i] + r;
      double high = 0.0;
      double low = 0.0;
      const double open_price = written(std::exp(log_open));
      const double close_price = written(std::exp(new_log_close));
      const double volume = std::round(base_volume[i] * std::exp(0.3 * rng.normal()) * (1.0 + 20.0 * std::abs(r)));
      if (with_minutes) {
        // A Brownian bridge from the open to the close over 390 minutes.
        const double step = 0.5 * sigma_e / std::sqrt(390.0);
        path[0] = 0.0;
        for (std::size_t k = 1; k <= 390; ++k) {
          path[k] = path[k - 1] + step * rng.normal();
        }
        const double end = path[390];
        high = open_price;
        low = open_price;
        double previous = open_price;
        for (std::size_t k = 1; k <= 390; ++k) {
          const double frac = static_cast<double>(k) / 390.0;
          const double price = k == 390 ? close_price
                                        : written(std::exp(log_open + frac * (new_log_close - log_open) +
                                                           path[k] - frac * end));
          const double wick = std::abs(rng.normal()) * step * 0.3;
          const double bar_high = written(std::max(previous, price) * std::exp(wick));
          const double bar_low = written(std::min(previous, price) * std::exp(-wick));
          high = std::max(high, bar_high);
          low = std::min(low, bar_low);
          fmt::format_to(std::back_inserter(minutes->buffer()), "{},{},{:.4f},{:.4f},{:.4f},{:.4f},{}\n", symbols[i],
                         (open + static_cast<std::int64_t>(k) * 60).to_string(), previous, bar_high, bar_low, price,
                         std::llround(volume / 390.0 * (0.5 + rng.uniform())));
          previous = price;
        }
        report.minute_bars += 390;
        minutes->flush_if_full();
      } else {
        const double wick = sigma_e * 0.3;
        high = written(std::max(open_price, close_price) * std::exp(std::abs(rng.normal()) * wick));
        low = written(std::min(open_price, close_price) * std::exp(-std::abs(rng.normal()) * wick));
      }
      fmt::format_to(std::back_inserter(prices.buffer()), "{},{},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.0f}\n",
                     symbols[i], day.to_string(), open_price, high, low, close_price, close_price, volume);
      simple_return[i] = close_price / close_written[i] - 1.0;
      log_return[i] = r;
      log_close[i] = new_log_close;
      close_written[i] = close_price;
    }
    prices.flush_if_full();
    texts.flush_if_full();
    previous_close = close;
    if (t > 0 && n >= 3) {
      const double ic = evaluation::pearson(signal, simple_return);
      if (!std::isnan(ic)) {
        ic_sum += ic;
        rank_ic_sum +=
            evaluation::pearson(evaluation::average_ranks(signal), evaluation::average_ranks(simple_return));
        share_sum += variance(signal) / variance(log_return);
        ++scored;
      }
    }
  }
  report.sessions = static_cast<std::int64_t>(sessions.size());
  report.bars = report.sessions * static_cast<std::int64_t>(n);
  report.bytes += prices.commit();
  report.bytes += texts.commit();
  if (minutes) {
    report.bytes += minutes->commit();
  }
  report.oracle_ic = scored > 0 ? ic_sum / static_cast<double>(scored) : 0.0;
  report.oracle_rank_ic = scored > 0 ? rank_ic_sum / static_cast<double>(scored) : 0.0;
  report.share_of_variance = scored > 0 ? share_sum / static_cast<double>(scored) : 0.0;

  // A run configuration for the files: prices and texts (read in blocks, not held: a universe is made to be large), a
  // cross-sectional return label learnt with the IC loss on one batch per session, a chronological split (the first
  // 70% of sessions train, the next 15% validate).
  const Date valid_start = sessions[sessions.size() * 70 / 100];
  const Date test_start = sessions[sessions.size() * 85 / 100];
  Json run = {
      {"runtime", {{"seed", 1}}},
      {"data",
       {{"prices", {{"path", "prices.csv"}}},
        {"texts", {{"path", "texts.jsonl"}, {"hold_texts", false}}},
        {"graph", {{"path", "graph.csv"}}},
        {"assembly", {{"price_window", 5}, {"label", {{"kind", "excess_return"}}}, {"text", {{"lookback_days", 1}}}}},
        {"split", {{"valid_start", valid_start.to_string()}, {"test_start", test_start.to_string()}}},
        {"dataset",
         {{"modalities", {"price", "text"}},
          {"max_texts", 2},
          {"tokenizer", {{"max_length", options.words_per_text() + 4}}}}}}},
      {"model",
       {{"encoders",
         {{"price", {{"type", "rnn"}, {"hidden", 16}}},
          {"text", {{"type", "rnn"}, {"cell", "gru"}, {"hidden", 16}, {"embedding_dim", 16}}}}},
        {"fusion", {{"type", "concat"}}},
        {"heads", {{"score", {{"type", "ranking"}, {"loss", "ic"}}}}}}},
      {"training",
       {{"epochs", 6},
        {"batching", "cross_sectional"},
        {"optimizer", {{"type", "adamw"}, {"lr", 0.003}}},
        {"metrics", {"ic", "rank_ic"}},
        {"monitor", "valid.rank_ic"}}}};
  if (options.minute_days() > 0) {
    // With minute bars, the model also reads the last session's minutes known at each decision.
    run["data"]["intraday"] = {{"path", "minute.csv"}};
    run["data"]["dataset"]["modalities"].push_back("intraday");
    run["model"]["encoders"]["intraday"] = {{"type", "rnn"}, {"cell", "gru"}, {"hidden", 16}};
  }
  {
    UniverseFile file(out_dir / "run.json");
    fmt::format_to(std::back_inserter(file.buffer()), "{}\n", run.dump(2));
    report.bytes += file.commit();
  }
  const Json truth = {{"options", options.to_json()},
                      {"sessions", report.sessions},
                      {"first", report.first.to_string()},
                      {"last", report.last.to_string()},
                      {"bars", report.bars},
                      {"texts", report.texts},
                      {"edges", report.edges},
                      {"minute_bars", report.minute_bars},
                      {"oracle_ic", report.oracle_ic},
                      {"oracle_rank_ic", report.oracle_rank_ic},
                      {"share_of_variance", report.share_of_variance},
                      {"positive_words", kPositiveWords},
                      {"negative_words", kNegativeWords}};
  {
    UniverseFile file(out_dir / "truth.json");
    fmt::format_to(std::back_inserter(file.buffer()), "{}\n", truth.dump(2));
    report.bytes += file.commit();
  }
  logger()->info("universe: {} stocks x {} sessions ({} to {}): {} bars, {} texts, {} edges, {} minute bars, {:.1f} MB "
                 "in {:.1f} s; oracle IC {:.3f} (rank {:.3f})",
                 n, report.sessions, report.first.to_string(), report.last.to_string(), report.bars, report.texts,
                 report.edges, report.minute_bars, static_cast<double>(report.bytes) / 1e6,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count(),
                 report.oracle_ic, report.oracle_rank_ic);
  return report;
}

}  // namespace finfuse::data
