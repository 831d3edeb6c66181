#include "finfuse/data/sample_list.h"

#include "finfuse/core/error.h"
#include "finfuse/data/binary_io.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
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
    std::uint8_t wide = 1;
    std::vector<std::uint16_t> entity16;
    std::vector<std::int32_t> entity = {0, 0, 0};
    std::uint8_t target_kind = 2;
    std::vector<std::uint8_t> target_code;
    std::vector<float> target = {0.0f, 0.0f, 0.0f};
    std::vector<double> run_mean;
    std::vector<float> forward_return = {0.0f, 0.0f, 0.0f};
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
    out.pod(a.wide);
    out.vec(a.entity16);
    out.vec(a.entity);
    out.pod(a.target_kind);
    out.vec(a.target_code);
    out.vec(a.target);
    out.vec(a.run_mean);
    out.vec(a.forward_return);
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
  // Entities in 16 bits, targets as classes or as the forward returns: each column as long as the samples, the other
  // of each pair empty.
  const Arrays narrow = with([](Arrays& a) {
    a.wide = 0;
    a.entity16 = {0, 0, 0};
    a.entity = {};
    a.target_kind = 1;
    a.target_code = {1, 0, SampleList::kUnknownCode};
    a.target = {};
  });
  const SampleList classes = loads(narrow);
  EXPECT_FALSE(classes.wide_entities());
  EXPECT_EQ(classes.target_kind(), SampleList::TargetKind::code);
  EXPECT_EQ(classes.target(0), 1.0f);
  EXPECT_TRUE(std::isnan(classes.target(2)));
  const auto narrowed = [&](auto change) {
    Arrays a = narrow;
    change(a);
    return write(a);
  };
  refused(narrowed([](Arrays& a) { a.wide = 2; }), "entity width or target kind");
  refused(narrowed([](Arrays& a) { a.target_kind = 4; }), "entity width or target kind");
  refused(narrowed([](Arrays& a) { a.entity = {0, 0, 0}; }), "different lengths");  // both widths
  refused(narrowed([](Arrays& a) { a.entity16 = {0, 0}; }), "different lengths");
  refused(narrowed([](Arrays& a) { a.target_code = {1, 0}; }), "different lengths");
  refused(narrowed([](Arrays& a) { a.target = {0.0f, 0.0f, 0.0f}; }), "different lengths");  // a code and a float
  refused(narrowed([](Arrays& a) { a.target_kind = 0; }), "different lengths");  // codes kept for no codes
  refused(narrowed([](Arrays& a) { a.wide = 1; }), "different lengths");
  // An excess return: a mean for each of the two runs of days.
  const auto excess = [&](std::vector<double> means) {
    return with([&](Arrays& a) {
      a.target_kind = 3;
      a.target = {};
      a.run_mean = means;
      a.forward_return = {0.5f, -0.25f, 0.0f};
    });
  };
  EXPECT_EQ(loads(excess({0.125, -1.0})).target(2), 1.0f);
  refused(write(excess({0.125})), "different lengths");
  refused(write(excess({0.125, std::numeric_limits<double>::infinity()})), "mean forward return is not finite");
  refused(write(with([](Arrays& a) { a.run_mean = {0.0, 0.0}; })), "different lengths");  // means beside floats
  EXPECT_EQ(loads(with([](Arrays& a) {
              a.target_kind = 0;
              a.target = {};
              a.forward_return = {0.5f, -0.25f, 0.0f};
            })).target(1),
            -0.25f);

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

// A daily panel of many entities over many days: the shapes in a few runs and the last bars in a stretch per entity
// and gap, so a sample takes 7 bytes (entity, target, return) beside the runs; every field comes back as it went in.
TEST(SampleListTest, KeepsADailyPanelInSevenBytesASample) {
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
  // 7 bytes a sample (a 16-bit entity, a class in a byte, a 32-bit return), the days' runs, the shapes and their runs,
  // and 41 stretches with the entities' starts.
  EXPECT_FALSE(list.wide_entities());
  EXPECT_EQ(list.target_kind(), SampleList::TargetKind::code);
  const std::size_t per_sample = 7 * records.size();
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
  EXPECT_EQ(list.bytes(), 15 * records.size() + list.shapes() * sizeof(SampleShape) + 50 * 12);
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
  EXPECT_EQ(list.bytes(), 15 * records.size() + list.shapes() * sizeof(SampleShape) + 400 * 12);
}

// Each sample's entity in 16 bits until one is 2^16 or above, and its target kept as narrow as every target allows: not
// at all while each is the sample's forward return, in a byte while each is a class or unknown, else as a float. Every
// target comes back bit for bit, also after a change of kind part-way and after save and load.
TEST(SampleListTest, KeepsEntitiesAndTargetsAsNarrowAsTheyAllow) {
  const Date day = Date::from_ymd(2024, 1, 1);
  const auto make = [&](std::vector<std::int32_t> entities, std::vector<float> targets, std::vector<float> returns) {
    std::vector<Sample> records;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const auto d = static_cast<std::int32_t>(i);
      Sample s = sample_at(entities[i % entities.size()], day + d, 10 + d, 12 + d, 14 * 3600);
      s.target = targets[i];
      s.forward_return = returns[i];
      records.push_back(s);
    }
    return records;
  };
  const auto round_trip = [](const std::vector<Sample>& records, SampleList::TargetKind kind, bool wide) {
    const SampleList list(records);
    EXPECT_EQ(list.target_kind(), kind);
    EXPECT_EQ(list.wide_entities(), wide);
    BinaryWriter w;
    list.save(w);
    const auto bytes = std::make_shared<const std::string>(w.take());
    BinaryReader r(*bytes, "samples.bin", bytes);
    const SampleList loaded = SampleList::load(r);
    EXPECT_EQ(loaded.target_kind(), kind);
    EXPECT_EQ(loaded.wide_entities(), wide);
    for (std::size_t i = 0; i < records.size(); ++i) {
      expect_same(list[i], records[i]);
      expect_same(loaded[i], records[i]);
      const float target = loaded.target(i);
      EXPECT_EQ(std::memcmp(&target, &records[i].target, sizeof(float)), 0) << i;
    }
    return list.bytes() - loaded.shapes() * sizeof(SampleShape);
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> returns = {0.01f, -0.02f, 0.5f, nan, 0.0f, 3.0f};
  // A return label: nothing but the returns (and a 16-bit entity).
  const std::size_t plain = round_trip(make({0, 1}, returns, returns), SampleList::TargetKind::forward_return, false);
  // Classes and an unknown (NaN): a byte each.
  const std::size_t coded =
      round_trip(make({0, 1}, {1.0f, 0.0f, 254.0f, nan, 2.0f, 0.0f}, returns), SampleList::TargetKind::code, false);
  EXPECT_EQ(coded, plain + returns.size());
  // A class list that meets a fraction, -0, or a NaN other than the quiet one part-way: floats from then on, the
  // classes before it as they were.
  for (const float odd : {0.5f, -0.0f, 255.0f, -1.0f, -std::numeric_limits<float>::quiet_NaN()}) {
    const std::size_t values =
        round_trip(make({0, 1}, {1.0f, 0.0f, 2.0f, odd, 1.0f, nan}, returns), SampleList::TargetKind::value, false);
    EXPECT_EQ(values, plain + 4 * returns.size());
  }
  // Targets equal to the returns at first, then not: floats, the first ones being the returns.
  round_trip(make({0, 1}, {0.01f, -0.02f, 1.0f, nan, 0.0f, 3.0f}, returns), SampleList::TargetKind::value, false);
  // An entity past 2^16 part-way: 32-bit entities, the earlier ones as they were.
  const std::size_t wide =
      round_trip(make({0, 65535, 70000}, returns, returns), SampleList::TargetKind::forward_return, true);
  EXPECT_EQ(wide, plain + 2 * returns.size());

  // The builder's targets changed after the samples came (a cross-sectional label): each kind turns into floats only
  // when a new target needs it.
  SampleList::Builder builder;
  for (const Sample& s : make({0, 1}, {1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f}, returns)) {
    builder.add(s);
  }
  builder.set_target(1, 7.0f);
  EXPECT_EQ(builder.target(1), 7.0f);
  builder.set_target(2, nan);
  EXPECT_TRUE(std::isnan(builder.target(2)));
  builder.set_target(3, 0.25f);
  builder.set_target(4, -3.5f);
  EXPECT_THROW(builder.set_target(6, 0.0f), Error);
  const SampleList changed = builder.finish();
  EXPECT_EQ(changed.target_kind(), SampleList::TargetKind::value);
  const std::vector<float> expected = {1.0f, 7.0f, nan, 0.25f, -3.5f, 0.0f};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const float target = changed.target(i);
    EXPECT_EQ(std::memcmp(&expected[i], &target, sizeof(float)), 0) << i;
  }
  SampleList::Builder same;
  for (const Sample& s : make({0}, returns, returns)) {
    same.add(s);
  }
  same.set_target(0, 0.01f);  // its own return: nothing kept
  const SampleList unchanged = same.finish();
  EXPECT_EQ(unchanged.target_kind(), SampleList::TargetKind::forward_return);
}

// An excess return kept as one mean a run of days: each target is its return minus the mean of its day's finite
// returns, computed here by hand in double precision, and unknown where its return is not finite; a target set
// afterwards turns them into floats with the others as they were.
TEST(SampleListTest, KeepsExcessReturnsAsOneMeanADay) {
  const Date first = Date::from_ymd(2024, 1, 1);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::vector<float>> days = {
      {0.01f, -0.02f, 0.04f}, {nan, 0.5f, 0.25f}, {nan, nan, nan}, {0.1f, 0.1f, 0.1f}, {-0.3f, 1e-7f, 0.03f}};
  std::vector<Sample> records;
  std::vector<float> expected;
  for (std::size_t d = 0; d < days.size(); ++d) {
    double sum = 0.0;
    int finite = 0;
    for (const float r : days[d]) {
      if (std::isfinite(r)) {
        sum += r;
        ++finite;
      }
    }
    for (std::size_t e = 0; e < days[d].size(); ++e) {
      const auto day = static_cast<std::int32_t>(d);
      Sample s = sample_at(static_cast<std::int32_t>(e), first + day, 10 + day, 12 + day, 14 * 3600);
      s.target = days[d][e];
      s.forward_return = days[d][e];
      records.push_back(s);
      const float r = days[d][e];
      expected.push_back(std::isfinite(r) ? static_cast<float>(static_cast<double>(r) - sum / finite) : nan);
    }
  }
  const auto build = [&](bool change_one) {
    SampleList::Builder builder;
    for (const Sample& s : records) {
      builder.add(s);
    }
    builder.demean_targets_by_day();
    const float fourth = builder.target(4);
    EXPECT_EQ(std::memcmp(&fourth, &expected[4], sizeof(float)), 0);
    if (change_one) {
      builder.set_target(2, 9.0f);
    }
    return builder.finish();
  };
  const SampleList list = build(false);
  EXPECT_EQ(list.target_kind(), SampleList::TargetKind::excess_return);
  BinaryWriter w;
  list.save(w);
  const auto bytes = std::make_shared<const std::string>(w.take());
  BinaryReader r(*bytes, "samples.bin", bytes);
  const SampleList loaded = SampleList::load(r);
  EXPECT_EQ(loaded.target_kind(), SampleList::TargetKind::excess_return);
  const SampleList changed = build(true);
  EXPECT_EQ(changed.target_kind(), SampleList::TargetKind::value);
  // A mean a day in place of a float a sample.
  EXPECT_EQ(changed.bytes() + days.size() * sizeof(double), list.bytes() + records.size() * sizeof(float));
  for (std::size_t i = 0; i < records.size(); ++i) {
    for (const SampleList* l : {&list, &loaded, &changed}) {
      const float target = l == &changed && i == 2 ? 9.0f : expected[i];
      const float got = l->target(i);
      EXPECT_EQ(std::memcmp(&got, &target, sizeof(float)), 0) << i << ": " << got << " vs " << target;
      const float whole = (*l)[i].target;
      EXPECT_EQ(std::memcmp(&whole, &target, sizeof(float)), 0) << i;
    }
  }
  // A batch's targets: a day's samples, then back and forth.
  const std::vector<std::size_t> batch = {3, 4, 5, 14, 0, 8, 7, 13};
  std::vector<float> targets(batch.size());
  loaded.targets_of(batch, targets.data());
  for (std::size_t k = 0; k < batch.size(); ++k) {
    EXPECT_EQ(std::memcmp(&targets[k], &expected[batch[k]], sizeof(float)), 0) << batch[k];
  }
  EXPECT_THROW(loaded.targets_of({records.size()}, targets.data()), Error);
  EXPECT_TRUE(std::isnan(list.target(6)));
  EXPECT_NEAR(list.target(0), 0.01 - 0.01, 1e-9);  // the mean of 0.01, -0.02, 0.04 is 0.01
}

}  // namespace finfuse::data
