#include "finfuse/evaluation/backtest.h"

#include "finfuse/core/error.h"
#include "finfuse/data/time.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace finfuse::evaluation {

namespace {

struct Stats {
  double annual = 0.0;
  double total = 0.0;
};

Stats compound(const std::vector<double>& returns, double periods_per_year) {
  double equity = 1.0;
  for (const double r : returns) {
    equity *= 1.0 + r;
  }
  Stats s;
  s.total = equity - 1.0;
  s.annual = returns.empty() || equity <= 0.0
                 ? (equity <= 0.0 ? -1.0 : 0.0)
                 : std::pow(equity, periods_per_year / static_cast<double>(returns.size())) - 1.0;
  return s;
}

}  // namespace

BacktestResult run_backtest(const PredictionRows& rows, const BacktestOptions& options) {
  std::map<std::int32_t, std::vector<std::size_t>> by_day;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (std::isfinite(rows.forward_return[i]) && std::isfinite(rows.score[i])) {
      by_day[rows.day[i]].push_back(i);
    }
  }
  BacktestResult result;
  std::map<std::int64_t, double> previous;  // entity -> weight held
  std::map<std::int64_t, BacktestEntity> entities;
  std::vector<double> net;
  std::vector<double> benchmark;
  double equity = 1.0;
  double benchmark_equity = 1.0;
  double peak = 1.0;
  const bool timing = options.kind == "timing";
  // Turnover against the previous holdings, costs, the equity curves; then the day is recorded.
  const auto close_day = [&](BacktestDay& d, std::map<std::int64_t, double> weights, double mean_return) {
    for (const auto& [entity, w] : weights) {
      const auto it = previous.find(entity);
      d.turnover += std::abs(w - (it == previous.end() ? 0.0 : it->second));
    }
    for (const auto& [entity, w] : previous) {
      if (weights.count(entity) == 0) {
        d.turnover += std::abs(w);
      }
    }
    d.net = d.gross - d.turnover * options.cost_bps / 1e4;
    equity *= 1.0 + d.net;
    peak = std::max(peak, equity);
    result.max_drawdown = std::max(result.max_drawdown, 1.0 - equity / peak);
    d.equity = equity;
    benchmark_equity *= 1.0 + mean_return;
    d.benchmark_equity = benchmark_equity;
    previous = std::move(weights);
    net.push_back(d.net);
    benchmark.push_back(mean_return);
    result.days.push_back(d);
  };
  std::int64_t day_index = -1;
  for (auto& [day, members] : by_day) {
    const auto n = static_cast<std::int64_t>(members.size());
    if (n < (timing ? 1 : options.min_samples)) {
      continue;
    }
    if (++day_index % options.every != 0) {
      continue;
    }
    if (timing) {
      std::map<std::int64_t, double> weights;
      BacktestDay d;
      d.day = day;
      double mean_return = 0.0;
      for (const auto i : members) {
        const double r = rows.forward_return[i];
        mean_return += r / static_cast<double>(n);
        const double position = rows.score[i] > options.threshold ? 1.0 : (options.long_only ? 0.0 : -1.0);
        weights[rows.entity[i]] += position / static_cast<double>(n);
        (position > 0 ? d.long_return : d.short_return) += r / static_cast<double>(n);
        auto& e = entities[rows.entity[i]];
        (position > 0 ? e.days_long : e.days_short) += position != 0.0 ? 1 : 0;
        e.contribution += position * r / static_cast<double>(n);
      }
      d.gross = d.long_return - d.short_return * (options.long_only ? 0.0 : 1.0);
      close_day(d, std::move(weights), mean_return);
      continue;
    }
    // Highest score first; ties broken by entity for determinism.
    std::sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
      return rows.score[a] != rows.score[b] ? rows.score[a] > rows.score[b] : rows.entity[a] < rows.entity[b];
    });
    std::int64_t k = options.top >= 1.0 ? static_cast<std::int64_t>(options.top)
                                        : std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(options.top * static_cast<double>(n))));
    k = std::min(k, options.long_only ? n : n / 2);
    if (k < 1) {
      continue;
    }
    std::map<std::int64_t, double> weights;
    BacktestDay d;
    d.day = day;
    double mean_return = 0.0;
    for (std::int64_t j = 0; j < n; ++j) {
      mean_return += rows.forward_return[members[static_cast<std::size_t>(j)]] / static_cast<double>(n);
    }
    for (std::int64_t j = 0; j < k; ++j) {
      const auto i = members[static_cast<std::size_t>(j)];
      weights[rows.entity[i]] += 1.0 / static_cast<double>(k);
      d.long_return += rows.forward_return[i] / static_cast<double>(k);
      entities[rows.entity[i]].days_long += 1;
      entities[rows.entity[i]].contribution += rows.forward_return[i] / static_cast<double>(k);
      if (!options.long_only) {
        const auto s = members[static_cast<std::size_t>(n - 1 - j)];
        weights[rows.entity[s]] -= 1.0 / static_cast<double>(k);
        d.short_return += rows.forward_return[s] / static_cast<double>(k);
        entities[rows.entity[s]].days_short += 1;
        entities[rows.entity[s]].contribution -= rows.forward_return[s] / static_cast<double>(k);
      }
    }
    d.gross = d.long_return - (options.long_only ? 0.0 : d.short_return);
    close_day(d, std::move(weights), mean_return);
  }
  if (result.days.empty()) {
    throw Error(fmt::format("backtest: no decision day has {} or more predictions with a forward return",
                            options.min_samples));
  }
  const double ppy = options.periods_per_year;
  const auto periods = static_cast<double>(net.size());
  const double m = std::accumulate(net.begin(), net.end(), 0.0) / periods;
  double ss = 0.0;
  double downside = 0.0;
  for (const double r : net) {
    ss += (r - m) * (r - m);
    downside += std::min(r, 0.0) * std::min(r, 0.0);
  }
  const double sd = net.size() > 1 ? std::sqrt(ss / (periods - 1.0)) : std::nan("");
  downside = std::sqrt(downside / periods);
  const auto stats = compound(net, ppy);
  result.annual_return = stats.annual;
  result.total_return = stats.total;
  result.volatility = sd * std::sqrt(ppy);
  result.sharpe = sd > 0.0 ? m / sd * std::sqrt(ppy) : std::nan("");
  result.sortino = downside > 0.0 ? m / downside * std::sqrt(ppy) : std::nan("");
  result.calmar = result.max_drawdown > 0.0 ? result.annual_return / result.max_drawdown : std::nan("");
  double turnover = 0.0;
  for (const auto& d : result.days) {
    turnover += d.turnover;
  }
  result.turnover = turnover / periods;
  const auto bench = compound(benchmark, ppy);
  result.benchmark_total_return = bench.total;
  result.benchmark_annual_return = bench.annual;
  for (auto& [entity, e] : entities) {
    e.entity = entity;
    result.entities.push_back(e);
  }
  return result;
}

Json BacktestResult::to_json() const {
  const auto number = [](double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); };
  Json per_day = Json::array();
  for (const auto& d : days) {
    per_day.push_back(Json{{"day", data::Date(d.day).to_string()}, {"long_return", d.long_return},
                           {"short_return", d.short_return}, {"gross", d.gross}, {"turnover", d.turnover},
                           {"net", d.net}, {"equity", d.equity}, {"benchmark_equity", d.benchmark_equity}});
  }
  Json per_entity = Json::array();
  for (const auto& e : entities) {
    per_entity.push_back(Json{{"entity", e.entity}, {"days_long", e.days_long}, {"days_short", e.days_short},
                              {"contribution", e.contribution}});
  }
  return Json{{"annual_return", number(annual_return)},
              {"volatility", number(volatility)},
              {"sharpe", number(sharpe)},
              {"sortino", number(sortino)},
              {"max_drawdown", number(max_drawdown)},
              {"calmar", number(calmar)},
              {"turnover", number(turnover)},
              {"total_return", number(total_return)},
              {"benchmark_total_return", number(benchmark_total_return)},
              {"benchmark_annual_return", number(benchmark_annual_return)},
              {"per_day", per_day},
              {"per_entity", per_entity}};
}

void BacktestOptions::validate(const Config& config) const {
  if (top >= 1.0 && std::floor(top) != top) {
    config.fail_at("top", fmt::format("must be a whole count (>= 1) or a fraction (< 1), got {}", top));
  }
}

}  // namespace finfuse::evaluation
