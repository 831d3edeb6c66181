// Point-in-time sample assembly. A sample is (entity, decision time t): its inputs use only information
// available at t (a price window ending at the last close before t, texts published before t), its label only
// prices after t. A lookahead guard checks every assembled sample and refuses a configuration that would leak.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/core/shared_array.h"
#include "finfuse/data/labels.h"
#include "finfuse/data/market_clock.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/price_panel.h"
#include "finfuse/data/sample.h"
#include "finfuse/data/sample_list.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

/// Raised when an assembled sample would use information from after its decision time.
class LookaheadError : public Error {
 public:
  using Error::Error;
};

struct TextWindowOptions {
#define FINFUSE_TEXT_WINDOW_FIELDS(F)                                                                             \
  F(std::int64_t, lookback_days, 5, ::finfuse::Range::positive(),                                                 \
    "texts published after the close this many trading days before the window's last bar, and before the "       \
    "cutoff, belong to the sample")                                                                               \
  F(std::int64_t, max_texts, 0, ::finfuse::Range::non_negative(), "at most this many texts, newest first (0: no cap)") \
  F(std::int64_t, cutoff_offset_seconds, 0, {},                                                                   \
    "seconds added to the decision time to get the text cutoff (for delayed feeds: negative; positive values "   \
    "read texts published after the decision and are refused by the lookahead guard)")
  FINFUSE_FIELDS(TextWindowOptions, FINFUSE_TEXT_WINDOW_FIELDS)
#undef FINFUSE_TEXT_WINDOW_FIELDS
};


struct AssemblyOptions {
#define FINFUSE_ASSEMBLY_FIELDS(F)                                                                                \
  F(std::string, decision, "open", ::finfuse::FieldRule::one_of({"open", "close"}),                               \
    "open: decide before day d's session opens (inputs end with day d-1's bar); close: decide after day d's "     \
    "close (inputs include day d's bar)")                                                                         \
  F(std::int64_t, price_window, 5, ::finfuse::Range::closed(1, 10000), "trading days of prices per sample")       \
  F(bool, include_decision_day, false, {},                                                                        \
    "also put the decision day's own bar in the window (the default with decision close; with decision open it "  \
    "leaks the day's prices and the lookahead guard refuses it)")                                                 \
  F(std::int64_t, every, 1, ::finfuse::Range::at_least(1),                                                        \
    "decide on every n-th trading day only (with h-day labels, every = h gives non-overlapping label periods)")   \
  F(std::string, start, "", {}, "first decision day considered, YYYY-MM-DD (empty: unbounded)")                   \
  F(std::string, end, "", {}, "last decision day considered, YYYY-MM-DD (empty: unbounded)")                      \
  F(LabelOptions, label, {}, {}, "the label")                                                                     \
  F(MarketClockOptions, market, {}, {}, "the market's session and time zone")                                     \
  F(TextWindowOptions, text, {}, {}, "which texts a sample sees")
  FINFUSE_FIELDS(AssemblyOptions, FINFUSE_ASSEMBLY_FIELDS)
#undef FINFUSE_ASSEMBLY_FIELDS

  /// Checks the dates (and writes them as YYYY-MM-DD).
  void validate(const Config& config);
};



struct AssemblyReport {
  std::int64_t candidates = 0;
  std::int64_t short_history = 0;
  std::int64_t no_future = 0;
  std::int64_t dead_zone = 0;
  /// Label kind "column": no label row on the target day, or a missing value.
  std::int64_t no_label = 0;
  /// Bars on days the exchange calendar says are not sessions (a holiday, a closure), left out of the panel before
  /// assembly (sessions_only): neither decisions, nor window bars, nor label closes.
  std::int64_t off_calendar = 0;
  /// The label's target session has no bar (a gap in the entity's data): no label rather than a longer return.
  std::int64_t missing_target = 0;
};

struct SampleSet {
  std::vector<std::string> entities;
  /// Trading days of prices per sample window.
  std::int64_t price_window = 0;
  /// Sorted by decision day, then entity. Shared, not copied, by the datasets built on the set; a view of the file
  /// when reopened from the dataset cache.
  SampleList samples;
  AssemblyReport report;
  /// Whether samples carry decision times (false for rows of a static table).
  bool timed = true;
  /// The market session the decision times refer to.
  MarketClockOptions market;
};

/// Training samples need a label; inference keeps the samples whose label is not known yet (the latest days, the dead
/// zone, a missing label row) with a NaN target and forward return, so every (entity, day) gets a prediction.
enum class SampleMode { training, inference };

/// `prices` without its bars on days that the exchange calendar of `market` has no session (a vendor's row on Good
/// Friday, a closure): such a bar is no decision, and no window or label may count it as a session. Without a
/// calendar the panel is returned as it is. `removed`, when given, receives the number of bars left out; the first is
/// named in a warning. DataPipeline applies it to the price and market files before assembly.
PricePanel sessions_only(PricePanel prices, const MarketClockOptions& market, std::int64_t* removed = nullptr);

/// Assembles every sample of every entity in `prices` whose decision day lies in [start, end], runs the lookahead
/// guard on each (throws LookaheadError naming entity, day and the offending input), and computes labels. With an
/// exchange calendar (options.market.calendar), decisions fall on sessions, the label's horizon counts sessions
/// (the target is the close `horizon` sessions after the last close known at the decision; an entity without a bar
/// on that session gets no label), and early closes move the close instants; a panel holding a bar on a day that is
/// no session is refused (finfuse::Error naming the first such bar: pass it through sessions_only first). Labels of
/// kind "column" are read from `label_table` (an entity table), in the row dated on the target day; the label counts
/// as observed when both that day has closed and the row is published.
SampleSet assemble_samples(const PricePanel& prices, const AssemblyOptions& options,
                           const NumericTable* label_table = nullptr, SampleMode mode = SampleMode::training);

/// One sample per row of a static table (a credit application, say): the entity is the row's id, the target its
/// label. Throws finfuse::Error when the table is not static or has no label column.
SampleSet static_samples(const NumericTable& table, SampleMode mode = SampleMode::training);

/// Checks one sample: every input instant <= decision time < label instant (inputs only for an unlabeled sample,
/// target_bar < 0). Throws LookaheadError.
void check_no_lookahead(const Sample& sample, const std::string& entity, const PriceSeries& series,
                        const AssemblyOptions& options, const MarketClock& clock);

}  // namespace finfuse::data
