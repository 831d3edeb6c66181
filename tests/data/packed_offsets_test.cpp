#include "finfuse/data/packed_offsets.h"

#include "finfuse/core/error.h"
#include "finfuse/data/binary_io.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::data {
namespace {

// Counts 131 i (mod `modulo`) for `items` items, and where each item starts, by hand.
void counts_and_starts(std::size_t items, std::int64_t modulo, std::vector<std::int64_t>& counts,
                       std::vector<std::uint64_t>& starts) {
  counts.clear();
  starts.assign(1, 0);
  for (std::size_t i = 0; i < items; ++i) {
    counts.push_back(static_cast<std::int64_t>(i * 131 % static_cast<std::size_t>(modulo)));
    starts.push_back(starts.back() + static_cast<std::uint64_t>(counts.back()));
  }
}

TEST(PackedOffsets, KeepsCountsInTheFewestBytesAndFindsEveryStart) {
  for (const std::int64_t modulo : {3, 256, 65536, 70000}) {
    std::vector<std::int64_t> counts;
    std::vector<std::uint64_t> starts;
    counts_and_starts(1000, modulo, counts, starts);
    const PackedOffsets packed = PackedOffsets::from_counts(counts);
    const std::size_t width = modulo <= 256 ? 1 : modulo <= 65536 ? 2 : 4;
    EXPECT_EQ(packed.width(), width) << modulo;
    EXPECT_EQ(packed.items(), 1000u);
    EXPECT_EQ(packed.total(), starts.back());
    EXPECT_EQ(packed.bytes(), 1000 * width + (1000 + PackedOffsets::kBlock - 1) / PackedOffsets::kBlock * 8);
    for (std::size_t i = 0; i <= 1000; ++i) {
      ASSERT_EQ(packed.begin(i), starts[i]) << i << ", counts mod " << modulo;
      if (i < 1000) {
        ASSERT_EQ(packed.count(i), static_cast<std::uint32_t>(counts[i])) << i;
      }
    }
  }
  // From starts, as a flat array's windows are found.
  const PackedOffsets windows = PackedOffsets::from_starts(std::vector<std::int32_t>{0, 2, 2, 5, 9});
  EXPECT_EQ(windows.items(), 4u);
  EXPECT_EQ(windows.begin(3), 5u);
  EXPECT_EQ(windows.count(1), 0u);
  EXPECT_EQ(windows.begin(4), 9u);
  EXPECT_THROW(PackedOffsets::from_starts(std::vector<std::int32_t>{0, 3, 2}), Error);
  EXPECT_THROW(PackedOffsets::from_starts(std::vector<std::int32_t>{1, 3}), Error);
  EXPECT_THROW(PackedOffsets::from_counts(std::vector<std::int64_t>{1, -1}), Error);
  EXPECT_THROW(PackedOffsets::from_counts(std::vector<std::int64_t>{std::int64_t{1} << 32}), Error);
  EXPECT_EQ(PackedOffsets::from_counts(std::vector<std::int32_t>{}).total(), 0u);
}

TEST(PackedOffsets, SavedAndLoadedInPlaceOrRefusedWhenDamaged) {
  std::vector<std::int64_t> counts;
  std::vector<std::uint64_t> starts;
  counts_and_starts(100, 300, counts, starts);
  const PackedOffsets packed = PackedOffsets::from_counts(counts);
  BinaryWriter out;
  packed.save(out);
  const auto bytes = std::make_shared<const std::string>(out.take());
  BinaryReader in(*bytes, "windows.bin", bytes);
  const auto largest = static_cast<std::uint64_t>(*std::max_element(counts.begin(), counts.end()));
  const PackedOffsets back = PackedOffsets::load(in, largest, "windows");
  EXPECT_TRUE(in.done());
  ASSERT_EQ(back.items(), 100u);
  for (std::size_t i = 0; i <= 100; ++i) {
    ASSERT_EQ(back.begin(i), starts[i]) << i;
  }
  // A count above the bound.
  BinaryReader strict(*bytes, "windows.bin");
  EXPECT_THROW(PackedOffsets::load(strict, largest - 1, "windows"), DataError);

  // Hand-written damage: items, width, total, the three count arrays, the block starts.
  const auto damaged = [](std::uint64_t items, std::uint8_t width, std::uint64_t total,
                          const std::vector<std::uint8_t>& counts8, const std::vector<std::uint16_t>& counts16,
                          const std::vector<std::uint64_t>& blocks) {
    BinaryWriter w;
    w.pod(items);
    w.pod(width);
    w.pod(total);
    w.vec(counts8);
    w.vec(counts16);
    w.vec(std::vector<std::uint32_t>{});
    w.vec(blocks);
    const std::string bytes = w.take();
    BinaryReader r(bytes, "windows.bin");
    try {
      (void)PackedOffsets::load(r, 100, "text windows");
      ADD_FAILURE() << "loaded";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("text windows"), std::string::npos) << e.what();
    }
  };
  damaged(3, 1, 6, {1, 2, 3}, {}, {0, 3});      // a block start for items that are not there
  damaged(3, 1, 6, {1, 2}, {}, {0});            // fewer counts than items
  damaged(3, 2, 6, {1, 2, 3}, {}, {0});         // counts of another width than the one named
  damaged(3, 3, 6, {1, 2, 3}, {}, {0});         // no such width
  damaged(3, 1, 7, {1, 2, 3}, {}, {0});         // counts that do not add up to the total
  damaged(3, 1, 6, {1, 2, 3}, {1}, {0});        // counts of two widths
  damaged(3, 1, 6, {1, 2, 3}, {}, {1});         // the first block not starting at 0
  damaged(3, 1, 101, {1, 101, 3}, {}, {0});     // a count above the bound
  damaged(3, 1, 6, {1, 2, 3}, {}, {});          // no block starts
}

}  // namespace
}  // namespace finfuse::data
