#include "finfuse/data/sample_list.h"

#include "finfuse/core/error.h"
#include "finfuse/data/binary_io.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace finfuse::data {
namespace {

constexpr std::int64_t kDay = 86400;

Sample sample_at(std::int32_t entity, Date day, std::int32_t last_bar, std::int32_t target_bar, std::int64_t open) {
  Sample s;
  s.entity = entity;
  s.last_bar = last_bar;
  s.target_bar = target_bar;
  const Timestamp time = Timestamp::at(day, open);
  s.set_instants(day, time,
                 target_bar < 0 ? Timestamp(std::numeric_limits<std::int64_t>::max()) : time + 2 * kDay,
                 last_bar < 5 ? Timestamp(std::numeric_limits<std::int64_t>::min()) : time + (-6 * kDay), time + (-60));
  s.target = static_cast<float>(entity % 2);
  s.forward_return = 0.01f * static_cast<float>(last_bar);
  return s;
}

void expect_same(const Sample& a, const Sample& b) {
  EXPECT_EQ(a.entity, b.entity);
  EXPECT_EQ(a.day, b.day);
  EXPECT_EQ(a.time(), b.time());
  EXPECT_EQ(a.last_bar, b.last_bar);
  EXPECT_EQ(a.target_bar, b.target_bar);
  EXPECT_EQ(a.label_time(), b.label_time());
  EXPECT_EQ(a.text_start(), b.text_start());
  EXPECT_EQ(a.text_cutoff(), b.text_cutoff());
  EXPECT_EQ(std::memcmp(&a.target, &b.target, sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(&a.forward_return, &b.forward_return, sizeof(float)), 0);
}

// Three entities over twenty days, the last days without a label, one entity missing a day, in decision order.
std::vector<Sample> daily() {
  std::vector<Sample> out;
  const Date first = Date::from_ymd(2024, 1, 1);
  for (std::int32_t d = 0; d < 20; ++d) {
    for (std::int32_t e = 0; e < 3; ++e) {
      if (e == 1 && d == 7) {
        continue;
      }
      const std::int32_t last = d + 4;
      // Daylight saving time moves the open an hour after day 10.
      const std::int64_t open = d < 10 ? 14 * 3600 + 1800 : 13 * 3600 + 1800;
      out.push_back(sample_at(e, first + d, last, d >= 18 ? -1 : last + 2, open));
    }
  }
  return out;
}

}  // namespace

TEST(SampleListTest, GivesBackEverySampleAsItWasAndSharesOffsetsAndDays) {
  const std::vector<Sample> records = daily();
  const SampleList list(records);
  ASSERT_EQ(list.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    expect_same(list[i], records[i]);
    EXPECT_EQ(list.entity(i), records[i].entity);
    EXPECT_EQ(list.day(i), records[i].day);
    EXPECT_EQ(list.last_bar(i), records[i].last_bar);
  }
  std::size_t i = 0;
  for (const Sample s : list) {
    expect_same(s, records[i++]);
  }
  EXPECT_EQ(i, records.size());
  // Two opens x (text window with and without a start) x (labeled, unlabeled), not one shape a sample.
  EXPECT_LE(list.shapes(), 8u);
  EXPECT_EQ(list.day_runs(), 20u);
  EXPECT_LT(list.bytes(), records.size() * sizeof(Sample) / 2 + 8 * sizeof(SampleShape) + 20 * 12);
  const auto back = list.to_vector();
  ASSERT_EQ(back.size(), records.size());
  expect_same(back.back(), records.back());
  const std::vector<Sample> copied(list.begin(), list.end());
  ASSERT_EQ(copied.size(), records.size());
  expect_same(copied[7], records[7]);
}

TEST(SampleListTest, KeepsAnyOrderOfDays) {
  std::vector<Sample> records = daily();
  std::swap(records[1], records[40]);
  std::swap(records[5], records.back());
  const SampleList list(records);
  for (std::size_t i = 0; i < records.size(); ++i) {
    expect_same(list[i], records[i]);
  }
  EXPECT_EQ(SampleList(std::vector<Sample>{}).size(), 0u);
}

TEST(SampleListTest, RefusesATargetBarTooFarFromItsLastBar) {
  Sample far = sample_at(0, Date::from_ymd(2024, 1, 2), -5, std::numeric_limits<std::int32_t>::max(), 0);
  EXPECT_THROW(SampleList(std::vector<Sample>{far}), Error);
  far.target_bar = -1;  // unknown: kept
  EXPECT_EQ(SampleList(std::vector<Sample>{far})[0].target_bar, -1);
}

TEST(SampleListTest, SavedAndLoadedInPlaceOrRefusedWhenInconsistent) {
  const SampleList list(daily());
  BinaryWriter w;
  list.save(w);
  const auto bytes = std::make_shared<const std::string>(w.take());
  BinaryReader r(*bytes, "samples.bin", bytes);
  const SampleList loaded = SampleList::load(r);
  EXPECT_EQ(r.position(), bytes->size());
  EXPECT_TRUE(loaded.is_view());
  EXPECT_FALSE(list.is_view());
  EXPECT_TRUE(loaded.shares(loaded));
  EXPECT_FALSE(loaded.shares(list));
  ASSERT_EQ(loaded.size(), list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    expect_same(loaded[i], list[i]);
  }

  // Arrays written by hand: a shape index outside the shapes, columns of different lengths, runs that do not rise, and
  // stretches of last bars that miss a sample, overlap or end past the runs.
  struct Arrays {
    std::vector<std::int32_t> entity = {0, 0, 0};
    std::vector<std::uint64_t> run_first = {0, 2};
    std::vector<std::uint32_t> shape = {0, 0, 0};
    std::vector<std::uint64_t> shape_first;
    std::vector<std::uint32_t> shape_run;
    std::vector<std::int32_t> last_bar = {0, 0, 0};
    std::vector<std::uint64_t> stretch_begin;
    std::vector<SampleList::Stretch> stretches;
  };
  const auto write = [](const Arrays& a) {
    BinaryWriter out;
    out.vec(a.entity);
    out.vec(std::vector<float>(a.entity.size(), 0.0f));
    out.vec(std::vector<float>(a.entity.size(), 0.0f));
    out.vec(std::vector<SampleShape>(1));
    out.vec(a.run_first);
    out.vec(std::vector<std::int32_t>(a.run_first.size(), 0));
    out.vec(a.shape);
    out.vec(a.shape_first);
    out.vec(a.shape_run);
    out.vec(a.last_bar);
    out.vec(a.stretch_begin);
    out.vec(a.stretches);
    return out.take();
  };
  const auto refused = [](const std::string& bytes, const std::string& what) {
    BinaryReader in(bytes, "bad.ffcache");
    try {
      (void)SampleList::load(in);
      ADD_FAILURE() << "expected a DataError for " << what;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.ffcache"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  const auto loads = [&](const Arrays& a) {
    const std::string bytes = write(a);
    BinaryReader in(bytes, "good.ffcache");
    return SampleList::load(in);
  };
  EXPECT_EQ(loads(Arrays{}).size(), 3u);
  const auto with = [](auto change) {
    Arrays a;
    change(a);
    return a;
  };
  refused(write(with([](Arrays& a) { a.shape = {0, 1, 0}; })), "shape");
  refused(write(with([](Arrays& a) { a.shape = {0, 0}; })), "runs of shapes");
  refused(write(with([](Arrays& a) { a.last_bar = {0, 0}; })), "stretches of last bars");
  refused(write(with([](Arrays& a) { a.run_first = {1}; })), "runs of days");
  refused(write(with([](Arrays& a) { a.run_first = {0, 2, 2}; })), "runs of days");
  refused(write(with([](Arrays& a) { a.run_first = {0, 3}; })), "runs of days");
  refused(write(with([](Arrays& a) { a.run_first = {}; })), "runs of days");

  // Shapes in runs and last bars in stretches: samples 0, 1 on run 0 and sample 2 on run 1.
  const Arrays compact = with([](Arrays& a) {
    a.entity = {0, 1, 1};
    a.shape = {};
    a.shape_first = {0};
    a.shape_run = {0};
    a.last_bar = {};
    a.stretch_begin = {0, 1, 2};
    a.stretches = {{0, 0, 4}, {0, 1, 7}};
  });
  const SampleList good = loads(compact);
  EXPECT_TRUE(good.shapes_in_runs());
  EXPECT_TRUE(good.last_bars_in_stretches());
  EXPECT_EQ(good.last_bar(0), 4);
  EXPECT_EQ(good.last_bar(1), 7);
  EXPECT_EQ(good.last_bar(2), 8);
  const auto changed = [&](auto change) {
    Arrays a = compact;
    change(a);
    return write(a);
  };
  refused(changed([](Arrays& a) { a.shape_run = {1}; }), "shape");
  refused(changed([](Arrays& a) { a.shape_first = {1}; }), "runs of shapes");
  refused(changed([](Arrays& a) { a.shape_first = {0, 3}; a.shape_run = {0, 0}; }), "runs of shapes");
  refused(changed([](Arrays& a) { a.stretches[1].from = 1; }), "stretches of last bars");          // misses sample 1
  refused(changed([](Arrays& a) { a.stretches[1].to = 2; }), "stretches of last bars");            // past the runs
  refused(changed([](Arrays& a) { a.stretches[0].to = 1; a.stretches[0].from = 1; }), "stretches");  // misses sample 0
  refused(changed([](Arrays& a) { a.entity[2] = 2; }), "stretches of last bars");                  // no entity 2
  refused(changed([](Arrays& a) {  // entity 1 has none
    a.stretch_begin = {0, 1, 1};
    a.stretches = {{0, 0, 4}};
  }),
          "stretches of last bars");
  refused(changed([](Arrays& a) { a.stretch_begin = {0, 1, 3}; }), "stretches of last bars");      // past the stretches
  refused(changed([](Arrays& a) {  // entity 1's two stretches overlap
    a.stretch_begin = {0, 1, 3};
    a.stretches = {{0, 0, 4}, {0, 1, 7}, {1, 1, 6}};
  }),
          "stretches of last bars");
  refused(changed([](Arrays& a) { a.stretches[1].delta = std::numeric_limits<std::int32_t>::max(); }),
          "stretches of last bars");  // run 1's last bar past 2^31
  refused(changed([](Arrays& a) { a.last_bar = {0, 0, 0}; }), "stretches of last bars");  // both kept
}

// A daily panel of many entities over many days: the shapes in a few runs and the last bars in a stretch per entity
// and gap, so a sample takes 12 bytes (entity, target, return) beside the runs; every field comes back as it went in.
// Each entity's lowest and highest last bar among `records`, as SampleList::last_bar_bounds() gives them.
std::vector<std::pair<std::int32_t, std::int32_t>> bounds_of(const std::vector<Sample>& records) {
  std::vector<std::pair<std::int32_t, std::int32_t>> bounds;
  for (const Sample& s : records) {
    const auto e = static_cast<std::size_t>(s.entity);
    if (e >= bounds.size()) {
      bounds.resize(e + 1, {std::numeric_limits<std::int32_t>::max(), std::numeric_limits<std::int32_t>::min()});
    }
    bounds[e] = {std::min(bounds[e].first, s.last_bar), std::max(bounds[e].second, s.last_bar)};
  }
  return bounds;
}

TEST(SampleListTest, KeepsADailyPanelInTwelveBytesASample) {
  std::vector<Sample> records;
  const Date first = Date::from_ymd(2020, 1, 1);
  constexpr std::int32_t kEntities = 40;
  constexpr std::int32_t kDays = 300;
  for (std::int32_t d = 0; d < kDays; ++d) {
    for (std::int32_t e = 0; e < kEntities; ++e) {
      if (e == 3 && d > 100 && d < 110) {
        continue;  // no samples for ten days, its bars still there: the same stretch
      }
      if (e == 5 && d >= 200) {
        continue;  // delisted
      }
      std::int32_t last = d + 4 + e % 7;  // entities' series start on different days
      if (e == 7 && d >= 150) {
        last -= 2;  // two days missing from its bars: a second stretch
      }
      if (e >= 30 && d < 50) {
        continue;  // listed later
      }
      records.push_back(sample_at(e, first + d, last, d >= kDays - 2 ? -1 : last + 2, 14 * 3600 + 1800));
    }
  }
  const SampleList list(records);
  EXPECT_TRUE(list.shapes_in_runs());
  EXPECT_TRUE(list.last_bars_in_stretches());
  EXPECT_EQ(list.stretches(), 41u);  // one an entity, and entity 7's second
  EXPECT_EQ(list.layout(), fmt::format("{} shape(s) in {} run(s), last bars in 41 stretch(es)", list.shapes(),
                                       list.shape_runs()));
  ASSERT_EQ(list.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    expect_same(list[i], records[i]);
    ASSERT_EQ(list.last_bar(i), records[i].last_bar) << i;
  }
  std::vector<std::int32_t> last(records.size() - 11);
  list.last_bars(11, last.size(), last.data());
  for (std::size_t k = 0; k < last.size(); ++k) {
    ASSERT_EQ(last[k], records[11 + k].last_bar) << k;
  }
  EXPECT_THROW(list.last_bars(11, records.size(), last.data()), Error);
  // Each entity's bounds from its stretches (entity 7 has two, entity 5 stops early).
  EXPECT_EQ(list.last_bar_bounds(), bounds_of(records));
  // A batch's days and last bars: a day's samples in order, then indices back and forth.
  std::vector<std::size_t> batch;
  for (std::size_t i = 500; i < 540; ++i) {
    batch.push_back(i);
  }
  for (const std::size_t i : {std::size_t{7}, records.size() - 1, std::size_t{3000}, std::size_t{2999}, std::size_t{0}}) {
    batch.push_back(i);
  }
  std::vector<Date> days(batch.size());
  std::vector<std::int32_t> bars(batch.size());
  list.days_of(batch, days.data());
  list.last_bars_of(batch, bars.data());
  for (std::size_t k = 0; k < batch.size(); ++k) {
    EXPECT_EQ(days[k], records[batch[k]].day) << batch[k];
    EXPECT_EQ(bars[k], records[batch[k]].last_bar) << batch[k];
  }
  batch.push_back(records.size());
  days.resize(batch.size());
  bars.resize(batch.size());
  EXPECT_THROW(list.days_of(batch, days.data()), Error);
  EXPECT_THROW(list.last_bars_of(batch, bars.data()), Error);
  // 12 bytes a sample, the days' runs, the shapes and their runs, and 41 stretches with the entities' starts.
  const std::size_t per_sample = 12 * records.size();
  EXPECT_GE(list.bytes(), per_sample);
  EXPECT_LE(list.bytes(), per_sample + kDays * 12 + 4 * sizeof(SampleShape) + 16 * 12 + (kEntities + 1) * 8 + 41 * 12);

  BinaryWriter w;
  list.save(w);
  const auto bytes = std::make_shared<const std::string>(w.take());
  BinaryReader r(*bytes, "samples.bin", bytes);
  const SampleList loaded = SampleList::load(r);
  EXPECT_TRUE(loaded.last_bars_in_stretches());
  for (std::size_t i = 0; i < records.size(); ++i) {
    expect_same(loaded[i], records[i]);
  }
}

// Several decisions of an entity on one day with different last bars (intraday), and shapes that change every sample:
// the columns are kept, and every sample comes back as it went in.
TEST(SampleListTest, KeepsColumnsWhereRunsAndStretchesWouldTakeMoreRoom) {
  std::vector<Sample> records;
  const Date first = Date::from_ymd(2020, 1, 1);
  for (std::int32_t d = 0; d < 50; ++d) {
    for (std::int32_t e = 0; e < 4; ++e) {
      for (std::int32_t minute = 0; minute < 30; ++minute) {
        const std::int32_t last = 390 * d + 13 * minute + 20;
        records.push_back(sample_at(e, first + d, last, last + 1 + minute % 2, 14 * 3600 + 1800 + 780 * minute));
      }
    }
  }
  const SampleList list(records);
  EXPECT_FALSE(list.shapes_in_runs());
  EXPECT_FALSE(list.last_bars_in_stretches());
  EXPECT_EQ(list.shape_runs() + list.stretches(), 0u);
  EXPECT_EQ(list.layout(), fmt::format("{} shape(s), one a sample, a last bar a sample", list.shapes()));
  EXPECT_EQ(list.last_bar_bounds(), bounds_of(records));
  for (std::size_t i = 0; i < records.size(); ++i) {
    expect_same(list[i], records[i]);
  }
  std::vector<std::int32_t> last(records.size());
  list.last_bars(0, last.size(), last.data());
  EXPECT_EQ(last.back(), records.back().last_bar);
  const std::vector<std::size_t> batch = {3, 2, records.size() - 1, 40};
  std::vector<std::int32_t> bars(batch.size());
  list.last_bars_of(batch, bars.data());
  for (std::size_t k = 0; k < batch.size(); ++k) {
    EXPECT_EQ(bars[k], records[batch[k]].last_bar);
  }
  EXPECT_EQ(list.bytes(), 20 * records.size() + list.shapes() * sizeof(SampleShape) + 50 * 12);
}

// Daily decisions for a while, then several a day: the runs and stretches followed so far become the columns, which
// hold the earlier samples' shapes and last bars as they were.
TEST(SampleListTest, ColumnsMadeAfterManySamplesHoldTheEarlierOnes) {
  std::vector<Sample> records;
  const Date first = Date::from_ymd(2020, 1, 1);
  for (std::int32_t d = 0; d < 400; ++d) {
    for (std::int32_t e = 0; e < 12; ++e) {
      const std::int32_t decisions = d < 300 ? 1 : 8;
      for (std::int32_t k = 0; k < decisions; ++k) {
        const std::int32_t last = (d < 300 ? d : 300 + 8 * (d - 300) + k) + 3 + e % 4 - (e == 2 && d > 150 ? 1 : 0);
        records.push_back(sample_at(e, first + d, last, last + 1 + k % 2, 14 * 3600 + 1800 + 600 * k));
      }
    }
  }
  const SampleList list(records);
  EXPECT_FALSE(list.shapes_in_runs());
  EXPECT_FALSE(list.last_bars_in_stretches());
  ASSERT_EQ(list.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    expect_same(list[i], records[i]);
  }
  EXPECT_EQ(list.bytes(), 20 * records.size() + list.shapes() * sizeof(SampleShape) + 400 * 12);
}

}  // namespace finfuse::data
