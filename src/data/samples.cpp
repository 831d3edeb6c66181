#include "finfuse/data/samples.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace finfuse::data {

void Sample::set_instants(Date day, Timestamp time, Timestamp label_time, Timestamp text_start,
                          Timestamp text_cutoff) {
  // Seconds from `from` to `instant`, when they fit 32 bits; the unbounded ends keep their own values.
  const auto offset = [](Timestamp instant, Timestamp from, bool unbounded_ends) -> std::optional<std::int32_t> {
    if (unbounded_ends && instant.seconds() == std::numeric_limits<std::int64_t>::max()) {
      return kUnboundedAfter;
    }
    if (unbounded_ends && instant.seconds() == std::numeric_limits<std::int64_t>::min()) {
      return kUnboundedBefore;
    }
    std::int64_t seconds = 0;
    if (__builtin_sub_overflow(instant.seconds(), from.seconds(), &seconds) || seconds <= kUnboundedBefore ||
        seconds >= kUnboundedAfter) {
      return std::nullopt;
    }
    return static_cast<std::int32_t>(seconds);
  };
  const auto fail = [](const char* what, Timestamp instant, const std::string& from) {
    throw Error(fmt::format("a sample's {} ({} seconds since 1970) lies 68 years or more from {}: a sample keeps its "
                            "instants as 32-bit seconds",
                            what, instant.seconds(), from));
  };
  const auto decision = offset(time, Timestamp::at(day), false);
  if (!decision) {
    fail("decision", time, "the start of its day " + day.to_string());
  }
  const std::pair<Timestamp, const char*> others[] = {
      {label_time, "label time"}, {text_start, "text window start"}, {text_cutoff, "text cutoff"}};
  std::int32_t kept[3] = {};
  for (std::size_t k = 0; k < 3; ++k) {
    const auto seconds = offset(others[k].first, time, true);
    if (!seconds) {
      fail(others[k].second, others[k].first, "its decision (" + time.to_string() + ")");
    }
    kept[k] = *seconds;
  }
  this->day = day;
  time_offset_ = *decision;
  label_offset_ = kept[0];
  text_start_offset_ = kept[1];
  text_cutoff_offset_ = kept[2];
}

void AssemblyOptions::validate(const Config& config) {
  const auto first = field_date(config, "start", start);
  const auto last = field_date(config, "end", end);
  if (first && last && *last < *first) {
    config.fail_at("end", fmt::format("must not be before start ({}), got {}", first->to_string(), last->to_string()));
  }
  start = first ? first->to_string() : std::string();
  end = last ? last->to_string() : std::string();
}

SampleSet static_samples(const NumericTable& table, SampleMode mode) {
  FINFUSE_CHECK(table.kind() == "static", "static_samples needs a static table, got a ", table.kind(), " table");
  FINFUSE_CHECK(table.has_label() || mode == SampleMode::inference, "static_samples needs a table with a label column");
  SampleSet set;
  set.timed = false;
  set.entities.reserve(table.rows());
  SampleList::Builder records;
  records.reserve(table.rows());
  for (std::size_t row = 0; row < table.rows(); ++row) {
    set.entities.push_back(table.entity(row));
    Sample sample;
    sample.entity = static_cast<std::int32_t>(row);
    sample.target = table.has_label() ? table.label(row) : std::numeric_limits<float>::quiet_NaN();
    sample.forward_return = std::numeric_limits<float>::quiet_NaN();
    records.add(sample);
  }
  set.samples = records.finish();
  return set;
}

void check_no_lookahead(const Sample& sample, const std::string& entity, const PriceSeries& series,
                        const AssemblyOptions& options, const MarketClock& clock) {
  const auto fail = [&](const std::string& what) {
    throw LookaheadError(fmt::format("lookahead in sample {} {} (decision at {}): {}; refusing this configuration",
                                     entity, sample.day.to_string(), sample.time().to_string(), what));
  };
  const Timestamp last_input = clock.close(series.dates[static_cast<std::size_t>(sample.last_bar)]);
  if (last_input > sample.time()) {
    fail(fmt::format("its price window ends with the bar of {}, which closes at {}",
                     series.dates[static_cast<std::size_t>(sample.last_bar)].to_string(), last_input.to_string()));
  }
  if (sample.text_cutoff() > sample.time()) {
    fail(fmt::format("its text window reaches {}", sample.text_cutoff().to_string()));
  }
  if (sample.target_bar < 0) {
    return;  // unlabeled (inference): there is no label to check
  }
  if (sample.target_bar <= sample.last_bar || !(sample.label_time() > sample.time())) {
    fail(fmt::format("its label is the close of {} at {}, not after the decision",
                     series.dates[static_cast<std::size_t>(sample.target_bar)].to_string(),
                     sample.label_time().to_string()));
  }
  (void)options;
}

PricePanel sessions_only(PricePanel prices, const MarketClockOptions& market, std::int64_t* removed) {
  const MarketClock clock(market);
  const ExchangeCalendar* calendar = clock.calendar();
  std::int64_t count = 0;
  if (calendar == nullptr) {
    if (removed != nullptr) {
      *removed = 0;
    }
    return prices;
  }
  std::string first;
  Date first_day;
  for (const auto& symbol : prices.symbols()) {
    for (const Date day : prices.series(symbol).dates) {
      if (!calendar->is_session(day) && (count++ == 0 || day < first_day)) {
        const auto closure = calendar->closure(day);
        first = fmt::format("{} {} ({})", symbol, day.to_string(), closure ? *closure : std::string("a weekend"));
        first_day = day;
      }
    }
  }
  if (removed != nullptr) {
    *removed = count;
  }
  if (count == 0) {
    return prices;
  }
  logger()->warn("prices: {} bar(s) fall on days the exchange calendar has no session, the earliest {}; they are left "
                 "out (set data.assembly.market.calendar to the exchange's calendar, or \"exchange\": \"none\" to "
                 "take the data's dates as sessions)",
                 count, first);
  return prices.filtered([calendar](Date day) { return calendar->is_session(day); });
}

SampleSet assemble_samples(const PricePanel& prices, const AssemblyOptions& options, const NumericTable* label_table,
                           SampleMode mode) {
  const bool inference = mode == SampleMode::inference;
  constexpr float kUnknown = std::numeric_limits<float>::quiet_NaN();
  const MarketClock clock(options.market);
  std::size_t label_column = 0;
  if (options.label.kind == "column") {
    FINFUSE_CHECK(label_table != nullptr, "label kind 'column' needs the label table '", options.label.table, "'");
    FINFUSE_CHECK(label_table->kind() == "entity", "the label table '", options.label.table,
                  "' must be an entity table (symbol, date, ...)");
    const auto column = label_table->column_index(options.label.column);
    FINFUSE_CHECK(column.has_value(), "the label table '", options.label.table, "' has no numeric column '",
                  options.label.column, "'");
    label_column = *column;
  }
  const auto start = options.start.empty() ? std::optional<Date>() : parse_date(options.start);
  const auto end = options.end.empty() ? std::optional<Date>() : parse_date(options.end);
  const bool at_open = options.decision == "open";
  // Number of bars between the decision day's own bar and the window's last bar.
  const std::int64_t lag = (at_open && !options.include_decision_day) ? 1 : 0;
  const std::int64_t window = options.price_window;
  const LabelOptions& label = options.label;

  const ExchangeCalendar* calendar = clock.calendar();

  // With `every` > 1, decisions fall on every n-th session of the panel's days (with an exchange calendar, its
  // sessions only), the same days for every entity.
  const std::vector<Date> panel_days = prices.calendar();
  std::map<std::int32_t, std::int64_t> calendar_index;
  if (options.every > 1) {
    std::int64_t k = 0;
    for (const Date day : panel_days) {
      if (calendar == nullptr || calendar->is_session(day)) {
        calendar_index.emplace(day.days(), k++);
      }
    }
  }

  SampleSet set;
  set.entities = prices.symbols();
  set.price_window = window;
  set.market = options.market;
  // At most one sample a bar (every n-th session with `every`): room for all at once, instead of growing by doubling
  // (which holds the old and the new array together, up to three times the samples' size, at the largest step).
  const auto every = static_cast<std::size_t>(std::max<std::int64_t>(1, options.every));
  SampleList::Builder records;
  records.reserve(static_cast<std::size_t>(prices.rows()) / every + set.entities.size());
  // Each entity's series and label prices, looked up once.
  std::vector<const PriceSeries*> series_of;
  series_of.reserve(set.entities.size());
  for (const auto& symbol : set.entities) {
    series_of.push_back(&prices.series(symbol));
  }
  const bool close_price = label.price == "close";
  const bool column_label = label.kind == "column";
  const bool classification = label.is_classification();
  // The samples of a block of days, entity by entity: each entity's bars are read in order, and the block is put in
  // decision order before it joins the list.
  std::vector<Sample> block;
  // The candidate decision on bar i of entity e: a sample (into the block), or a count in the report.
  const auto decide = [&](std::size_t e, std::int64_t i) {
    const PriceSeries& series = *series_of[e];
    const auto& price = close_price ? series.close : series.adj_close;
    const auto n = static_cast<std::int64_t>(series.size());
    const Date day = series.dates[static_cast<std::size_t>(i)];
    if ((start && day < *start) || (end && day > *end)) {
      return;
    }
    if (calendar != nullptr && !calendar->is_session(day)) {
      const auto closure = calendar->closure(day);
      throw Error(fmt::format(
          "the price series of '{}' has a bar on {} ({}), a day the exchange calendar has no session: windows and "
          "labels would count it as one. Leave such bars out with sessions_only(prices, options.market) (as "
          "DataPipeline does), or set market.calendar.exchange to \"none\" to take the data's dates as sessions",
          set.entities[e], day.to_string(), closure ? *closure : std::string("a weekend")));
    }
    if (options.every > 1 && calendar_index.at(day.days()) % options.every != 0) {
      return;
    }
    ++set.report.candidates;
    const std::int64_t last_bar = i - lag;
    if (last_bar - window + 1 < 0) {
      ++set.report.short_history;
      return;
    }
    // The label starts from the last close known at the decision: the window's last bar, or, when the
    // window (wrongly) includes the decision day at the open, the bar before it.
    const std::int64_t base_bar = at_open ? i - 1 : i;
    std::int64_t target_bar = base_bar + label.horizon;
    if (base_bar < 0) {
      ++set.report.short_history;
      return;
    }
    if (calendar != nullptr) {
      // The close `horizon` sessions after the base bar's: the entity's bar on that session, if it has one.
      Date target_day = series.dates[static_cast<std::size_t>(base_bar)];
      for (std::int64_t k = 0; k < label.horizon; ++k) {
        target_day = calendar->next_session(target_day);
      }
      const auto first = series.dates.begin() + base_bar + 1;
      const auto found = std::lower_bound(first, series.dates.end(), target_day);
      if (found == series.dates.end()) {
        target_bar = n;  // beyond the data: the label lies in the future
      } else if (*found == target_day) {
        target_bar = found - series.dates.begin();
      } else if (!inference) {
        ++set.report.missing_target;
        return;
      } else {
        target_bar = n;  // inference: kept, its label unknown
      }
    }
    if (target_bar >= n && !inference) {
      ++set.report.no_future;
      return;
    }
    // A sample's record but its label: the decision, the window's last bar, the target bar, the text window.
    const auto record = [&](std::int64_t target, Timestamp label_time) {
      Sample sample;
      sample.entity = static_cast<std::int32_t>(e);
      sample.last_bar = static_cast<std::int32_t>(last_bar);
      sample.target_bar = static_cast<std::int32_t>(target);
      const Timestamp time = at_open ? clock.open(day) : clock.close(day);
      const std::int64_t text_from_bar = last_bar - options.text.lookback_days;
      sample.set_instants(day, time, label_time,
                          text_from_bar >= 0 ? clock.close(series.dates[static_cast<std::size_t>(text_from_bar)])
                                             : Timestamp(std::numeric_limits<std::int64_t>::min()),
                          time + options.text.cutoff_offset_seconds);
      return sample;
    };
    if (target_bar >= n) {
      // Inference on the latest days: the inputs are complete, the label lies in the future.
      Sample sample = record(-1, Timestamp(std::numeric_limits<std::int64_t>::max()));
      sample.forward_return = kUnknown;
      sample.target = kUnknown;
      check_no_lookahead(sample, set.entities[e], series, options, clock);
      block.push_back(sample);
      return;
    }
    // The label is observed at the target bar's close, or, for a column label, once its row is published too.
    const Date target_day = series.dates[static_cast<std::size_t>(target_bar)];
    Timestamp label_time = clock.close(target_day);
    std::optional<std::size_t> label_row;
    if (column_label) {
      label_row = label_table->row_on(set.entities[e], target_day);
      if (label_row) {
        label_time = std::max(label_time, label_table->available_at(*label_row));
      }
    }
    Sample sample = record(target_bar, label_time);
    // The label is made from the return in double precision; the record keeps it in single.
    const double return_value = forward_return(price[static_cast<std::size_t>(base_bar)],
                                               price[static_cast<std::size_t>(target_bar)], label.return_type);
    sample.forward_return = static_cast<float>(return_value);
    if (column_label) {
      const float value =
          label_row ? label_table->value(*label_row, label_column) : std::numeric_limits<float>::quiet_NaN();
      if (std::isnan(value) && !inference) {
        ++set.report.no_label;
        return;
      }
      sample.target = value;
      check_no_lookahead(sample, set.entities[e], series, options, clock);
      block.push_back(sample);
      return;
    }
    check_no_lookahead(sample, set.entities[e], series, options, clock);
    if (classification) {
      const auto direction = direction_label(return_value, label);
      if (!direction && inference) {
        sample.target = kUnknown;
        block.push_back(sample);
        return;
      }
      if (!direction) {
        ++set.report.dead_zone;
        return;
      }
      sample.target = *direction;
    } else {
      sample.target = static_cast<float>(return_value);
    }
    block.push_back(sample);
  };
  // Blocks of about 2^16 candidates: the list grows in decision order without sorting it whole, and each entity's
  // bars are read in order, a block's days at a time.
  const std::size_t entities = std::max<std::size_t>(1, set.entities.size());
  const std::size_t block_days = std::max<std::size_t>(1, (std::size_t{1} << 16) / entities);
  std::vector<std::size_t> next_bar(set.entities.size(), 0);
  for (std::size_t first = 0; first < panel_days.size(); first += block_days) {
    const std::size_t last = std::min(panel_days.size(), first + block_days) - 1;
    block.clear();
    for (std::size_t e = 0; e < set.entities.size(); ++e) {
      const auto& dates = series_of[e]->dates;
      for (std::size_t& i = next_bar[e]; i < dates.size() && dates[i] <= panel_days[last]; ++i) {
        decide(e, static_cast<std::int64_t>(i));
      }
    }
    // By day, and on a day by entity: the order the entities were visited in, which a stable sort keeps.
    std::stable_sort(block.begin(), block.end(), [](const Sample& a, const Sample& b) { return a.day < b.day; });
    for (const Sample& sample : block) {
      records.add(sample);
    }
  }
  block = std::vector<Sample>();
  if (set.report.missing_target > 0) {
    logger()->info("samples: {} label(s) left out because the entity has no bar on the target session",
                   set.report.missing_target);
  }
  if (label.kind == "excess_return") {
    records.demean_targets_by_day();  // one mean a day instead of a target a sample
  } else if (label.is_cross_sectional()) {
    for (std::size_t r = 0; r < records.day_runs(); ++r) {
      const std::size_t i = records.run_begin(r);
      const std::size_t j = records.run_begin(r + 1);
      // Only samples with a known forward return take part (all of them outside inference).
      std::vector<double> returns;
      std::vector<std::size_t> members;
      for (std::size_t k = i; k < j; ++k) {
        if (std::isfinite(records.forward_return(k))) {
          returns.push_back(records.forward_return(k));
          members.push_back(k);
        } else {
          records.set_target(k, kUnknown);
        }
      }
      const auto ranks = percentile_ranks(returns);
      for (std::size_t m = 0; m < members.size(); ++m) {
        records.set_target(members[m], static_cast<float>(ranks[m]));
      }
    }
  }
  set.samples = records.finish();
  logger()->info("assembled {} samples of {} entities ({} candidate days; dropped {} without enough history, {} "
                 "without a future price, {} in the dead zone); {:.1f} MB, {}",
                 set.samples.size(), set.entities.size(), set.report.candidates, set.report.short_history,
                 set.report.no_future, set.report.dead_zone, static_cast<double>(set.samples.bytes()) / 1e6,
                 set.samples.layout());
  return set;
}

}  // namespace finfuse::data
