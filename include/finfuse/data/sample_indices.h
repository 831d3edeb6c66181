// A rising list of sample indices (a part of a split, the training samples a modality fits on), kept as runs of
// consecutive indices where that takes less room than the list: a chronological part of a day-ordered sample list is
// one run, however many samples it holds, while a shuffled part stays a list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <vector>

namespace finfuse::data {

class BinaryReader;
class BinaryWriter;

class SampleIndices {
 public:
  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::size_t*;
    using reference = std::size_t;

    std::size_t operator*() const { return owner_->at(position_, run_); }
    const_iterator& operator++() {
      ++position_;
      if (!owner_->listed() && run_ + 1 < owner_->run_offset_.size() && position_ == owner_->run_offset_[run_ + 1]) {
        ++run_;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const const_iterator& other) const { return position_ == other.position_; }
    bool operator!=(const const_iterator& other) const { return position_ != other.position_; }

   private:
    friend class SampleIndices;
    const_iterator(const SampleIndices* owner, std::size_t position, std::size_t run)
        : owner_(owner), position_(position), run_(run) {}
    const SampleIndices* owner_;
    std::size_t position_;
    std::size_t run_;
  };
  using iterator = const_iterator;
  using value_type = std::size_t;
  using size_type = std::size_t;

  SampleIndices() = default;
  /// The indices of a rising list (finfuse::Error otherwise).
  SampleIndices(std::vector<std::size_t> indices);  // NOLINT(google-explicit-constructor): a list is a set of indices
  SampleIndices(std::initializer_list<std::size_t> indices) : SampleIndices(std::vector<std::size_t>(indices)) {}
  /// begin, begin + 1, ..., end - 1.
  static SampleIndices range(std::size_t begin, std::size_t end);

  /// Adds `index`, which must be above every index so far (finfuse::Error otherwise).
  void push_back(std::size_t index);
  /// Reserves room for `count` indices should they have to be listed.
  void reserve(std::size_t count) { reserve_ = count; }
  /// Removes the indices for which `drop(index)` is true, asking once an index (a list takes its room once; nothing
  /// is rebuilt when none is dropped).
  template <typename Predicate>
  void erase_if(Predicate drop) {
    auto at = begin();
    std::size_t kept_before = 0;
    while (at != end() && !drop(*at)) {
      ++at;
      ++kept_before;
    }
    if (at == end()) {
      return;
    }
    SampleIndices kept;
    kept.reserve(size_);
    auto copied = begin();
    for (std::size_t k = 0; k < kept_before; ++k, ++copied) {
      kept.push_back(*copied);
    }
    for (++at; at != end(); ++at) {
      const std::size_t i = *at;
      if (!drop(i)) {
        kept.push_back(i);
      }
    }
    *this = std::move(kept);
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// The k-th index (finds its run when kept in runs).
  std::size_t operator[](std::size_t k) const;
  std::size_t front() const { return (*this)[0]; }
  std::size_t back() const { return (*this)[size_ - 1]; }
  const_iterator begin() const { return {this, 0, 0}; }
  const_iterator end() const { return {this, size_, 0}; }

  /// Runs of consecutive indices it is kept in, or 0 when it is kept as a list.
  std::size_t runs() const { return listed() ? 0 : run_start_.size(); }
  /// The bytes it takes.
  std::size_t bytes() const;
  /// The indices as a list.
  std::vector<std::size_t> to_vector() const;
  /// As to_vector(), for the APIs that take a list of indices (a batch, a sampler, a trainer).
  operator std::vector<std::size_t>() const { return to_vector(); }  // NOLINT(google-explicit-constructor)

  void save(BinaryWriter& out) const;
  /// What save() wrote; finfuse::Error (through in.inconsistent()) unless it is a rising list below `bound`.
  static SampleIndices load(BinaryReader& in, std::size_t bound);

  friend bool operator==(const SampleIndices& a, const SampleIndices& b);
  friend bool operator!=(const SampleIndices& a, const SampleIndices& b) { return !(a == b); }

 private:
  bool listed() const { return listed_; }
  /// The index at `position`, which lies in run `run` when kept in runs.
  std::size_t at(std::size_t position, std::size_t run) const {
    return listed_ ? list_[position] : run_start_[run] + (position - run_offset_[run]);
  }
  /// Lists the indices once runs stop taking less room.
  void list_if_smaller();

  std::size_t size_ = 0;
  std::size_t reserve_ = 0;
  bool listed_ = false;
  // Runs: run r holds run_start_[r], run_start_[r] + 1, ... and its first index is the run_offset_[r]-th.
  std::vector<std::size_t> run_start_;
  std::vector<std::size_t> run_offset_;
  std::vector<std::size_t> list_;
};

}  // namespace finfuse::data
