// Where each item's elements start in a flat array (a sample's text rows, a text's token ids), kept as each item's
// count in the fewest bytes that hold the largest count (1, 2 or 4) and the start of every 32nd item: 1 to 4 bytes
// and a quarter an item instead of 4 or 8 bytes for the starts themselves. begin(i) adds up at most 31 counts.
#pragma once

#include "finfuse/core/shared_array.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace finfuse::data {

class BinaryReader;
class BinaryWriter;

class PackedOffsets {
 public:
  PackedOffsets() = default;
  /// From each item's count. finfuse::Error for a negative count.
  template <typename T>
  static PackedOffsets from_counts(const std::vector<T>& counts) {
    return from_counts(counts.data(), counts.size());
  }
  static PackedOffsets from_counts(const std::int32_t* counts, std::size_t items);
  static PackedOffsets from_counts(const std::int64_t* counts, std::size_t items);
  /// From rising starts: item i's elements are [starts[i], starts[i + 1]), starts[0] = 0. finfuse::Error otherwise.
  static PackedOffsets from_starts(const std::vector<std::int32_t>& starts);

  std::size_t items() const { return items_; }
  /// Elements of every item together.
  std::uint64_t total() const { return total_; }
  std::uint32_t count(std::size_t i) const {
    return width_ == 1 ? counts8_[i] : width_ == 2 ? counts16_[i] : counts32_[i];
  }
  /// Where item i's elements start (i <= items(): begin(items()) is total()).
  std::uint64_t begin(std::size_t i) const;
  /// Bytes per count: 1, 2 or 4.
  std::size_t width() const { return width_; }
  std::size_t bytes() const;

  void save(BinaryWriter& out) const;
  /// What save() wrote; in.inconsistent() naming `what` unless its counts, each at most `max_count`, add up to the
  /// starts kept.
  static PackedOffsets load(BinaryReader& in, std::uint64_t max_count, const std::string& what);

  /// Items whose starts are kept: 0, kBlock, 2 kBlock, ...
  static constexpr std::size_t kBlock = 32;

 private:
  template <typename Count>
  static PackedOffsets pack(const Count& count_of, std::size_t items);

  std::size_t items_ = 0;
  std::uint64_t total_ = 0;
  std::uint8_t width_ = 1;
  SharedArray<std::uint8_t> counts8_;
  SharedArray<std::uint16_t> counts16_;
  SharedArray<std::uint32_t> counts32_;
  SharedArray<std::uint64_t> block_begin_;  // begin(k * kBlock) for every k with k * kBlock < items
};

}  // namespace finfuse::data
