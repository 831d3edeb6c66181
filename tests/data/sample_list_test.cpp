#include "finfuse/data/sample_list.h"

#include "finfuse/core/error.h"
#include "finfuse/data/binary_io.h"

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

  // Columns written by hand: a shape index outside the shapes, columns of different lengths, runs that do not rise.
  const auto write = [](std::vector<std::uint32_t> shape, std::vector<std::uint64_t> run_first, std::size_t n) {
    BinaryWriter out;
    out.vec(std::vector<std::int32_t>(n, 0));
    out.vec(std::vector<std::int32_t>(n, 0));
    out.vec(shape);
    out.vec(std::vector<float>(n, 0.0f));
    out.vec(std::vector<float>(n, 0.0f));
    out.vec(std::vector<SampleShape>(1));
    out.vec(run_first);
    out.vec(std::vector<std::int32_t>(run_first.size(), 0));
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
  const std::string good = write({0, 0, 0}, {0, 2}, 3);
  BinaryReader in(good, "good.ffcache");
  EXPECT_EQ(SampleList::load(in).size(), 3u);
  refused(write({0, 1, 0}, {0}, 3), "shape");
  refused(write({0, 0}, {0}, 3), "different lengths");
  refused(write({0, 0, 0}, {1}, 3), "runs of days");
  refused(write({0, 0, 0}, {0, 2, 2}, 3), "runs of days");
  refused(write({0, 0, 0}, {0, 3}, 3), "runs of days");
  refused(write({0, 0, 0}, {}, 3), "runs of days");
}

}  // namespace finfuse::data
