#include "finfuse/data/packed_offsets.h"

#include "finfuse/core/check.h"
#include "finfuse/data/binary_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace finfuse::data {

template <typename Count>
PackedOffsets PackedOffsets::pack(const Count& count_of, std::size_t items) {
  std::uint64_t largest = 0;
  for (std::size_t i = 0; i < items; ++i) {
    const std::int64_t count = count_of(i);
    FINFUSE_CHECK(count >= 0 && static_cast<std::uint64_t>(count) <= std::numeric_limits<std::uint32_t>::max(),
                  "item ", i, " has ", count, " elements (0 to 2^32 - 1 expected)");
    largest = std::max(largest, static_cast<std::uint64_t>(count));
  }
  PackedOffsets packed;
  packed.items_ = items;
  packed.width_ = largest <= std::numeric_limits<std::uint8_t>::max()    ? 1
                  : largest <= std::numeric_limits<std::uint16_t>::max() ? 2
                                                                         : 4;
  std::vector<std::uint64_t> block_begin;
  block_begin.reserve((items + kBlock - 1) / kBlock);
  const auto fill = [&](auto& counts) {
    using T = typename std::decay_t<decltype(counts)>::value_type;
    counts.resize(items);
    for (std::size_t i = 0; i < items; ++i) {
      if (i % kBlock == 0) {
        block_begin.push_back(packed.total_);
      }
      const auto count = static_cast<std::uint64_t>(count_of(i));
      counts[i] = static_cast<T>(count);
      packed.total_ += count;
    }
  };
  if (packed.width_ == 1) {
    std::vector<std::uint8_t> counts;
    fill(counts);
    packed.counts8_ = std::move(counts);
  } else if (packed.width_ == 2) {
    std::vector<std::uint16_t> counts;
    fill(counts);
    packed.counts16_ = std::move(counts);
  } else {
    std::vector<std::uint32_t> counts;
    fill(counts);
    packed.counts32_ = std::move(counts);
  }
  packed.block_begin_ = std::move(block_begin);
  return packed;
}

PackedOffsets PackedOffsets::from_counts(const std::int32_t* counts, std::size_t items) {
  return pack([counts](std::size_t i) { return std::int64_t{counts[i]}; }, items);
}

PackedOffsets PackedOffsets::from_counts(const std::int64_t* counts, std::size_t items) {
  return pack([counts](std::size_t i) { return counts[i]; }, items);
}

PackedOffsets PackedOffsets::from_starts(const std::vector<std::int32_t>& starts) {
  FINFUSE_CHECK(!starts.empty() && starts.front() == 0, "starts of items must begin with 0");
  return pack([&starts](std::size_t i) { return std::int64_t{starts[i + 1]} - starts[i]; }, starts.size() - 1);
}

std::uint64_t PackedOffsets::begin(std::size_t i) const {
  if (i == items_) {
    return total_;
  }
  const std::size_t first = i - i % kBlock;
  std::uint64_t at = block_begin_[i / kBlock];
  const auto add = [&](const auto& counts) {
    for (std::size_t k = first; k < i; ++k) {
      at += counts[k];
    }
  };
  if (width_ == 1) {
    add(counts8_);
  } else if (width_ == 2) {
    add(counts16_);
  } else {
    add(counts32_);
  }
  return at;
}

std::size_t PackedOffsets::bytes() const {
  return counts8_.size() + counts16_.size() * 2 + counts32_.size() * 4 + block_begin_.size() * 8;
}

void PackedOffsets::save(BinaryWriter& out) const {
  out.pod<std::uint64_t>(items_);
  out.pod<std::uint8_t>(width_);
  out.pod<std::uint64_t>(total_);
  out.vec(counts8_);
  out.vec(counts16_);
  out.vec(counts32_);
  out.vec(block_begin_);
}

PackedOffsets PackedOffsets::load(BinaryReader& in, std::uint64_t max_count, const std::string& what) {
  PackedOffsets packed;
  const auto items = static_cast<std::size_t>(in.pod<std::uint64_t>());
  packed.items_ = items;
  packed.width_ = in.pod<std::uint8_t>();
  packed.total_ = in.pod<std::uint64_t>();
  packed.counts8_ = in.array<std::uint8_t>();
  packed.counts16_ = in.array<std::uint16_t>();
  packed.counts32_ = in.array<std::uint32_t>();
  packed.block_begin_ = in.array<std::uint64_t>();
  const std::size_t w = packed.width_;
  const std::size_t kept = packed.counts8_.size() + packed.counts16_.size() + packed.counts32_.size();
  const std::size_t own = w == 1 ? packed.counts8_.size() : w == 2 ? packed.counts16_.size() : packed.counts32_.size();
  if ((w != 1 && w != 2 && w != 4) || kept != items || own != items ||
      packed.block_begin_.size() != (items + kBlock - 1) / kBlock) {
    in.inconsistent(fmt::format("{}: {} counts of {} bytes and {} block starts for {} items", what, kept, w,
                                packed.block_begin_.size(), items));
  }
  // Every count within bounds, and each block starting where the counts before it end.
  const auto check = [&](const auto& counts) {
    std::uint64_t at = 0;
    for (std::size_t i = 0; i < items; ++i) {
      if (i % kBlock == 0 && packed.block_begin_[i / kBlock] != at) {
        in.inconsistent(fmt::format("{}: item {} starts at {}, not at {} where the counts before it end", what, i,
                                    packed.block_begin_[i / kBlock], at));
      }
      if (counts[i] > max_count) {
        in.inconsistent(fmt::format("{}: item {} has {} elements, more than {}", what, i, counts[i], max_count));
      }
      at += counts[i];
    }
    if (at != packed.total_) {
      in.inconsistent(fmt::format("{}: the counts add up to {}, not {}", what, at, packed.total_));
    }
  };
  if (w == 1) {
    check(packed.counts8_);
  } else if (w == 2) {
    check(packed.counts16_);
  } else {
    check(packed.counts32_);
  }
  return packed;
}

}  // namespace finfuse::data
