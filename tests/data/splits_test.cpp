#include "finfuse/data/splits.h"

#include "finfuse/data/binary_io.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

namespace finfuse::data {
namespace {

// One entity, a sample on each of `n` consecutive days: decided at 14:30 UTC, label observed at 21:00 UTC
// `horizon` days later.
std::vector<Sample> daily_samples(int n, int horizon) {
  std::vector<Sample> samples;
  const Date first = Date::from_ymd(2015, 3, 2);
  for (int k = 0; k < n; ++k) {
    Sample s;
    const Date day = first + k;
    const Timestamp time = Timestamp::at(day, 14 * 3600 + 1800);
    s.set_instants(day, time, Timestamp::at(day + horizon, 21 * 3600), time, time);
    samples.push_back(s);
  }
  return samples;
}

using Indices = std::vector<std::size_t>;

TEST(SampleIndices, KeptInRunsOrAsAListWhicheverTakesLessRoom) {
  // Half a million consecutive indices and a few more after a gap: two runs, a few bytes.
  SampleIndices part = SampleIndices::range(3, 500003);
  for (std::size_t i = 600000; i < 600010; ++i) {
    part.push_back(i);
  }
  EXPECT_EQ(part.size(), 500010u);
  EXPECT_EQ(part.runs(), 2u);
  EXPECT_LE(part.bytes(), 256u);
  EXPECT_EQ(part.front(), 3u);
  EXPECT_EQ(part[499999], 500002u);
  EXPECT_EQ(part[500000], 600000u);
  EXPECT_EQ(part.back(), 600009u);
  EXPECT_THROW((void)part[500010], Error);
  EXPECT_THROW(part.push_back(600009), Error);  // must rise
  std::vector<std::size_t> listed = part;
  ASSERT_EQ(listed.size(), part.size());
  EXPECT_EQ(listed[500005], 600005u);
  EXPECT_TRUE(std::equal(part.begin(), part.end(), listed.begin()));
  EXPECT_EQ(SampleIndices(listed), part);

  // Every other index: runs would take twice the room of the list, so it is a list.
  Indices odd;
  for (std::size_t i = 1; i < 2000; i += 2) {
    odd.push_back(i);
  }
  const SampleIndices scattered(odd);
  EXPECT_EQ(scattered.runs(), 0u);
  EXPECT_EQ(scattered.size(), 1000u);
  EXPECT_EQ(scattered[10], 21u);
  EXPECT_EQ(scattered.to_vector(), odd);
  SampleIndices thinned = scattered;
  thinned.erase_if([](std::size_t i) { return i % 3 == 0; });
  EXPECT_EQ(thinned.runs(), 0u);
  EXPECT_EQ(thinned.size(), 667u);
  EXPECT_EQ(thinned[1], 5u);
  EXPECT_THROW(SampleIndices(Indices{4, 2}), Error);
  EXPECT_THROW(SampleIndices(Indices{4, 4}), Error);

  // Grown one index at a time: runs while they pay, then a list holding every index so far.
  SampleIndices grown;
  Indices expected;
  for (std::size_t i = 0; i < 100; ++i) {
    grown.push_back(i);
    expected.push_back(i);
  }
  EXPECT_EQ(grown.runs(), 1u);
  for (std::size_t i = 200; i < 800; i += 2) {
    grown.push_back(i);
    expected.push_back(i);
  }
  EXPECT_EQ(grown.runs(), 0u);
  EXPECT_EQ(grown, SampleIndices(expected));
  EXPECT_EQ(grown.to_vector(), expected);

  // Removing indices keeps the rest in order; a long run with a few holes stays runs.
  SampleIndices holes = SampleIndices::range(0, 1000);
  holes.erase_if([](std::size_t i) { return i % 100 == 7; });
  EXPECT_EQ(holes.size(), 990u);
  EXPECT_EQ(holes.runs(), 11u);
  EXPECT_EQ(holes[7], 8u);
  // Each index asked once, whether the first drop comes early, late or never.
  for (const std::size_t drop : {std::size_t{0}, std::size_t{999}, std::size_t{5000}}) {
    SampleIndices part = holes;
    std::size_t asked = 0;
    part.erase_if([&](std::size_t i) {
      ++asked;
      return i == drop;
    });
    EXPECT_EQ(asked, 990u);
    EXPECT_EQ(part.size(), drop == 5000 ? 990u : 989u);
    EXPECT_EQ(part.front(), drop == 0 ? 1u : 0u);
    EXPECT_EQ(part.back(), drop == 999 ? 998u : 999u);
  }
  EXPECT_TRUE(SampleIndices().empty());
  EXPECT_EQ(SampleIndices::range(5, 5).size(), 0u);
  EXPECT_THROW(SampleIndices::range(6, 5), Error);
}

TEST(SampleIndices, SavedAndLoadedOrRefusedWhenDamaged) {
  const auto round_trip = [](const SampleIndices& indices, std::size_t bound) {
    BinaryWriter out;
    indices.save(out);
    const std::string bytes = out.take();
    BinaryReader in(bytes, "split.bin");
    const SampleIndices back = SampleIndices::load(in, bound);
    EXPECT_TRUE(in.done());
    return back;
  };
  SampleIndices runs = SampleIndices::range(10, 20);
  runs.push_back(30);
  const SampleIndices list(Indices{1, 3, 5, 9});
  EXPECT_EQ(round_trip(runs, 31), runs);
  EXPECT_EQ(round_trip(runs, 31).runs(), 2u);
  EXPECT_EQ(round_trip(list, 10), list);
  EXPECT_EQ(round_trip(SampleIndices(), 0), SampleIndices());
  // Beyond the samples.
  EXPECT_THROW(round_trip(runs, 30), DataError);
  EXPECT_THROW(round_trip(list, 9), DataError);

  // Hand-written damage: the layout is a flag, the count, then the list or the runs' starts and offsets.
  const auto damaged = [](const std::function<void(BinaryWriter&)>& write, std::size_t bound) {
    BinaryWriter out;
    write(out);
    const std::string bytes = out.take();
    BinaryReader in(bytes, "split.bin");
    EXPECT_THROW(SampleIndices::load(in, bound), DataError);
  };
  const auto listed = [](std::uint64_t count, Indices values) {
    return [count, values](BinaryWriter& out) {
      out.pod<std::uint8_t>(1);
      out.pod<std::uint64_t>(count);
      out.vec(values);
    };
  };
  const auto in_runs = [](std::uint64_t count, Indices starts, Indices offsets) {
    return [count, starts, offsets](BinaryWriter& out) {
      out.pod<std::uint8_t>(0);
      out.pod<std::uint64_t>(count);
      out.vec(starts);
      out.vec(offsets);
    };
  };
  damaged([](BinaryWriter& out) { out.pod<std::uint8_t>(2); out.pod<std::uint64_t>(0); }, 10);  // unknown layout
  damaged(listed(3, {1, 2}), 10);                         // count and list disagree
  damaged(listed(3, {1, 3, 2}), 10);                      // does not rise
  damaged(listed(2, {1, 1}), 10);                         // repeats
  damaged(in_runs(5, {0, 4}, {0}), 10);                   // starts and offsets disagree
  damaged(in_runs(5, {0, 4}, {1, 3}), 10);                // the first run does not start at the first index
  damaged(in_runs(5, {0, 4}, {0, 0}), 10);                // an empty run
  damaged(in_runs(5, {0, 2}, {0, 3}), 10);                // runs overlap: 0..2 and 2..3
  damaged(in_runs(5, {0, 8}, {0, 3}), 9);                 // the last run (8, 9) passes the 9 samples
  damaged(in_runs(0, {0}, {0}), 10);                      // a run without indices
  damaged(in_runs(5, {}, {}), 10);                        // indices without runs
  damaged(in_runs(3, {std::size_t(-2)}, {0}), 10);        // a start that wraps around
}

TEST(ChronologicalSplit, ByDateBoundaries) {
  const auto samples = daily_samples(10, 1);
  const Date first = samples[0].day;
  const Split split = chronological_split(samples, first + 6, first + 8, first + 9);
  EXPECT_EQ(split.train, (Indices{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(split.valid, (Indices{6, 7}));
  EXPECT_EQ(split.test, (Indices{8}));
  // Day-ordered samples: each part is one run of indices.
  EXPECT_EQ(split.train.runs(), 1u);
  EXPECT_EQ(split.valid.runs(), 1u);
  EXPECT_THROW(chronological_split(samples, first + 8, first + 6), Error);
}

TEST(PurgedKFold, HandComputedPurgeAndEmbargo) {
  // Labels reach two days ahead. Fold 2 of 5 tests days 4 and 5; its span runs from day 4's decision to day 7's
  // close. Samples 2 and 3 (labels end on days 4 and 5) and 6 and 7 (decided inside the span) are purged; with a
  // one-day embargo sample 8 (decided 17.5 h after the span) goes too.
  const auto samples = daily_samples(10, 2);
  const auto folds = purged_kfold(samples, 5, 86400);
  ASSERT_EQ(folds.size(), 5u);
  EXPECT_EQ(folds[2].test, (Indices{4, 5}));
  EXPECT_EQ(folds[2].train, (Indices{0, 1, 9}));
  EXPECT_TRUE(folds[2].valid.empty());
  // Without the embargo sample 8 stays.
  EXPECT_EQ(purged_kfold(samples, 5, 0)[2].train, (Indices{0, 1, 8, 9}));
  // First fold: nothing before it; 2 and 3 overlap its span (day 0 to day 3's close), 4 is embargoed.
  EXPECT_EQ(folds[0].test, (Indices{0, 1}));
  EXPECT_EQ(folds[0].train, (Indices{5, 6, 7, 8, 9}));
  EXPECT_THROW(purged_kfold(samples, 1, 0), Error);
  EXPECT_THROW(purged_kfold(samples, 11, 0), Error);
}

TEST(WalkForward, ExpandingAndSlidingWithPurging) {
  const auto samples = daily_samples(10, 1);
  WalkForwardOptions options;
  options.train_days = 4;
  options.valid_days = 2;
  options.test_days = 2;
  const auto folds = walk_forward(samples, options);
  ASSERT_EQ(folds.size(), 2u);
  // Day 3's label (day 4's close) reaches into validation, day 5's into the test block: both purged.
  EXPECT_EQ(folds[0].train, (Indices{0, 1, 2}));
  EXPECT_EQ(folds[0].valid, (Indices{4}));
  EXPECT_EQ(folds[0].test, (Indices{6, 7}));
  EXPECT_EQ(folds[1].train, (Indices{0, 1, 2, 3, 4}));
  EXPECT_EQ(folds[1].valid, (Indices{6}));
  EXPECT_EQ(folds[1].test, (Indices{8, 9}));
  options.window = "sliding";
  EXPECT_EQ(walk_forward(samples, options)[1].train, (Indices{2, 3, 4}));
  options.window = "expanding";
  options.embargo_days = 1;
  const auto gapped = walk_forward(samples, options);
  ASSERT_EQ(gapped.size(), 1u);
  // Days 4 and 7 are gaps: day 3's label (day 4) is before validation starts on day 5, day 6's (day 7) before the
  // test block starts on day 8, so nothing needs purging.
  EXPECT_EQ(gapped[0].train, (Indices{0, 1, 2, 3}));
  EXPECT_EQ(gapped[0].valid, (Indices{5, 6}));
  EXPECT_EQ(gapped[0].test, (Indices{8, 9}));
  options.train_days = 20;
  EXPECT_THROW(walk_forward(samples, options), Error);
  EXPECT_EQ(WalkForwardOptions::from_config(Config(options.to_json())).to_json(), options.to_json());
}

TEST(RandomSplits, SizesDisjointnessAndStrata) {
  const Split split = random_split(1000, 0.1, 0.2, 7);
  EXPECT_EQ(split.train.size(), 700u);
  EXPECT_EQ(split.valid.size(), 100u);
  EXPECT_EQ(split.test.size(), 200u);
  std::set<std::size_t> all(split.train.begin(), split.train.end());
  all.insert(split.valid.begin(), split.valid.end());
  all.insert(split.test.begin(), split.test.end());
  EXPECT_EQ(all.size(), 1000u);
  EXPECT_EQ(random_split(1000, 0.1, 0.2, 7).test, split.test);
  EXPECT_NE(random_split(1000, 0.1, 0.2, 8).test, split.test);

  std::vector<std::int64_t> labels(1000, 0);
  for (std::size_t i = 0; i < 221; ++i) {
    labels[i * 4] = 1;  // 22.1% positive, as in the credit default data
  }
  const Split strata = stratified_split(labels, 0.0, 0.2, 3);
  std::int64_t positives = 0;
  for (auto i : strata.test) {
    positives += labels[i];
  }
  EXPECT_EQ(strata.test.size(), 200u);
  EXPECT_EQ(positives, 44);  // round(0.2 * 221)
  EXPECT_THROW(random_split(10, 0.5, 0.5, 1), Error);
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

TEST(RandomSplits, SampleSetsWarnWhenTimed) {
  SampleSet set;
  std::vector<Sample> records;
  for (int i = 0; i < 10; ++i) {
    Sample s;
    s.target = static_cast<float>(i % 2);
    records.push_back(s);
  }
  set.samples = std::vector<Sample>(records);
  set.timed = false;
  EXPECT_EQ(random_split(set, 0.2, 0.2, 1).test.size(), 2u);
  EXPECT_EQ(stratified_split(set, 0.0, 0.2, 1).test.size(), 2u);
  set.timed = true;  // still splits, with a warning in the log
  EXPECT_EQ(random_split(set, 0.2, 0.2, 1).train.size(), 6u);
  records[0].target = 0.5f;
  set.samples = std::move(records);
  EXPECT_THROW(stratified_split(set, 0.0, 0.2, 1), Error);
}

}  // namespace
}  // namespace finfuse::data
