#include "finfuse/data/sample_indices.h"

#include "finfuse/core/check.h"
#include "finfuse/data/binary_io.h"

#include <fmt/format.h>

#include <algorithm>

namespace finfuse::data {

SampleIndices::SampleIndices(std::vector<std::size_t> indices) {
  std::size_t runs = indices.empty() ? 0 : 1;
  for (std::size_t k = 1; k < indices.size(); ++k) {
    FINFUSE_CHECK(indices[k] > indices[k - 1], "sample indices must rise: index ", indices[k], " at position ", k,
                  " follows ", indices[k - 1]);
    runs += indices[k] != indices[k - 1] + 1 ? 1 : 0;
  }
  if (2 * runs > indices.size()) {
    size_ = indices.size();
    listed_ = true;
    list_ = std::move(indices);
    return;
  }
  run_start_.reserve(runs);
  run_offset_.reserve(runs);
  for (const std::size_t i : indices) {
    push_back(i);
  }
}

SampleIndices SampleIndices::range(std::size_t begin, std::size_t end) {
  FINFUSE_CHECK(begin <= end, "a range of sample indices from ", begin, " to ", end, " runs backwards");
  SampleIndices indices;
  if (begin < end) {
    indices.run_start_.push_back(begin);
    indices.run_offset_.push_back(0);
    indices.size_ = end - begin;
  }
  return indices;
}

void SampleIndices::push_back(std::size_t index) {
  const std::size_t last = size_ == 0 ? 0 : listed_ ? list_.back() : at(size_ - 1, run_start_.size() - 1);
  FINFUSE_CHECK(size_ == 0 || index > last, "sample indices must rise: index ", index, " follows ", last);
  if (listed_) {
    list_.push_back(index);
  } else if (size_ > 0 && index == last + 1) {
    // extends the last run
  } else {
    run_start_.push_back(index);
    run_offset_.push_back(size_);
  }
  ++size_;
  list_if_smaller();
}

void SampleIndices::list_if_smaller() {
  // Two words a run against one an index; a few runs stay runs however few indices they hold.
  if (listed_ || 2 * run_start_.size() <= size_ + 16) {
    return;
  }
  std::vector<std::size_t> list;
  list.reserve(std::max(reserve_, size_));
  for (const std::size_t i : *this) {
    list.push_back(i);
  }
  list_ = std::move(list);
  listed_ = true;
  run_start_ = std::vector<std::size_t>();
  run_offset_ = std::vector<std::size_t>();
}

std::size_t SampleIndices::operator[](std::size_t k) const {
  FINFUSE_CHECK(k < size_, "sample index position ", k, " is outside the ", size_, " indices");
  if (listed_) {
    return list_[k];
  }
  const auto run = static_cast<std::size_t>(std::upper_bound(run_offset_.begin(), run_offset_.end(), k) -
                                            run_offset_.begin()) - 1;
  return at(k, run);
}

std::size_t SampleIndices::bytes() const {
  return sizeof(std::size_t) * (list_.capacity() + run_start_.capacity() + run_offset_.capacity());
}

std::vector<std::size_t> SampleIndices::to_vector() const {
  if (listed_) {
    return list_;
  }
  std::vector<std::size_t> out;
  out.reserve(size_);
  for (const std::size_t i : *this) {
    out.push_back(i);
  }
  return out;
}

void SampleIndices::save(BinaryWriter& out) const {
  out.pod<std::uint8_t>(listed_ ? 1 : 0);
  out.pod<std::uint64_t>(size_);
  if (listed_) {
    out.vec(list_);
  } else {
    out.vec(run_start_);
    out.vec(run_offset_);
  }
}

SampleIndices SampleIndices::load(BinaryReader& in, std::size_t bound) {
  SampleIndices indices;
  const auto listed = in.pod<std::uint8_t>();
  if (listed > 1) {
    in.inconsistent(fmt::format("sample indices kept in an unknown way ({})", listed));
  }
  indices.size_ = static_cast<std::size_t>(in.pod<std::uint64_t>());
  indices.listed_ = listed == 1;
  if (indices.listed_) {
    indices.list_ = in.vec<std::size_t>();
    const auto& list = indices.list_;
    if (list.size() != indices.size_) {
      in.inconsistent(fmt::format("{} sample indices listed where {} are counted", list.size(), indices.size_));
    }
    for (std::size_t k = 0; k < list.size(); ++k) {
      if ((k > 0 && list[k] <= list[k - 1]) || list[k] >= bound) {
        in.inconsistent(fmt::format("sample index {} at position {} does not rise or lies outside the {} samples",
                                    list[k], k, bound));
      }
    }
    return indices;
  }
  indices.run_start_ = in.vec<std::size_t>();
  indices.run_offset_ = in.vec<std::size_t>();
  const auto& start = indices.run_start_;
  const auto& offset = indices.run_offset_;
  if (start.size() != offset.size() || (start.empty() != (indices.size_ == 0)) ||
      (!offset.empty() && (offset.front() != 0 || offset.back() >= indices.size_))) {
    in.inconsistent(fmt::format("{} runs of sample indices with {} offsets do not hold {} indices", start.size(),
                                offset.size(), indices.size_));
  }
  for (std::size_t r = 0; r < start.size(); ++r) {
    const std::size_t end_offset = r + 1 < start.size() ? offset[r + 1] : indices.size_;
    const std::size_t length = end_offset - offset[r];
    const bool fits = end_offset > offset[r] && start[r] <= bound && length <= bound - start[r];
    if (!fits || (r + 1 < start.size() && start[r] + length > start[r + 1])) {
      in.inconsistent(fmt::format("run {} of sample indices (from {}, {} long) is empty, overlaps the next or lies "
                                  "outside the {} samples",
                                  r, start[r], length, bound));
    }
  }
  return indices;
}

bool operator==(const SampleIndices& a, const SampleIndices& b) {
  if (a.size() != b.size()) {
    return false;
  }
  return std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace finfuse::data
