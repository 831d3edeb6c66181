#include "finfuse/data/sample_list.h"

#include "finfuse/core/check.h"
#include "finfuse/data/binary_io.h"

#include <c10/util/hash.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace finfuse::data {

Sample SampleList::operator[](std::size_t i) const {
  const SampleShape& shape = shapes_[shape_[i]];
  Sample s;
  s.entity = entity_[i];
  s.day = day(i);
  s.time_offset_ = shape.time_offset;
  s.last_bar = last_bar_[i];
  s.target_bar = shape.target_delta == SampleShape::kNoTarget
                     ? -1
                     : static_cast<std::int32_t>(static_cast<std::int64_t>(s.last_bar) + shape.target_delta);
  s.label_offset_ = shape.label_offset;
  s.text_start_offset_ = shape.text_start_offset;
  s.text_cutoff_offset_ = shape.text_cutoff_offset;
  s.target = target_[i];
  s.forward_return = forward_return_[i];
  return s;
}

Date SampleList::day(std::size_t i) const {
  // The last run that starts at or before i.
  const auto* run = std::upper_bound(run_first_.begin(), run_first_.end(), static_cast<std::uint64_t>(i));
  return Date(run_day_[static_cast<std::size_t>(run - run_first_.begin()) - 1]);
}

SampleList::SampleList(const std::vector<Sample>& samples) {
  Builder builder;
  builder.reserve(samples.size());
  for (const Sample& s : samples) {
    builder.add(s);
  }
  *this = builder.finish();
}

std::vector<Date> SampleList::days() const {
  std::vector<Date> days;
  days.reserve(run_day_.size());
  for (const std::int32_t day : run_day_) {
    days.emplace_back(day);
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  return days;
}

std::vector<Sample> SampleList::to_vector() const {
  std::vector<Sample> out;
  out.reserve(size());
  for (std::size_t i = 0; i < size(); ++i) {
    out.push_back((*this)[i]);
  }
  return out;
}

std::size_t SampleList::bytes() const {
  return size() * (2 * sizeof(std::int32_t) + sizeof(std::uint32_t) + 2 * sizeof(float)) +
         shapes_.size() * sizeof(SampleShape) + run_first_.size() * (sizeof(std::uint64_t) + sizeof(std::int32_t));
}

void SampleList::save(BinaryWriter& out) const {
  out.vec(entity_);
  out.vec(last_bar_);
  out.vec(shape_);
  out.vec(target_);
  out.vec(forward_return_);
  out.vec(shapes_);
  out.vec(run_first_);
  out.vec(run_day_);
}

SampleList SampleList::load(BinaryReader& in) {
  SampleList list;
  list.entity_ = in.array<std::int32_t>();
  list.last_bar_ = in.array<std::int32_t>();
  list.shape_ = in.array<std::uint32_t>();
  list.target_ = in.array<float>();
  list.forward_return_ = in.array<float>();
  list.shapes_ = in.array<SampleShape>();
  list.run_first_ = in.array<std::uint64_t>();
  list.run_day_ = in.array<std::int32_t>();
  const std::size_t n = list.entity_.size();
  if (list.last_bar_.size() != n || list.shape_.size() != n || list.target_.size() != n ||
      list.forward_return_.size() != n || list.run_day_.size() != list.run_first_.size()) {
    in.inconsistent("the samples' columns have different lengths");
  }
  const auto shapes = static_cast<std::uint32_t>(std::min<std::size_t>(list.shapes_.size(),
                                                                       std::numeric_limits<std::uint32_t>::max()));
  if (std::any_of(list.shape_.begin(), list.shape_.end(), [&](std::uint32_t s) { return s >= shapes; })) {
    in.inconsistent("a sample's shape lies outside the shapes");
  }
  const auto& first = list.run_first_;
  const bool runs_fit = n == 0 ? first.empty()
                               : !first.empty() && first[0] == 0 && first.back() < n &&
                                     std::adjacent_find(first.begin(), first.end(), [](auto a, auto b) {
                                       return b <= a;
                                     }) == first.end();
  if (!runs_fit) {
    in.inconsistent("the samples' runs of days");
  }
  return list;
}

// ---------------------------------------------------------------------------------------------------------- builder

std::size_t SampleList::Builder::ShapeHash::operator()(const SampleShape& s) const {
  return c10::get_hash(s.time_offset, s.label_offset, s.text_start_offset, s.text_cutoff_offset, s.target_delta);
}

void SampleList::Builder::reserve(std::size_t samples) {
  entity_.reserve(samples);
  last_bar_.reserve(samples);
  shape_.reserve(samples);
  target_.reserve(samples);
  forward_return_.reserve(samples);
}

void SampleList::Builder::add(const Sample& sample) {
  FINFUSE_CHECK(entity_.size() < std::numeric_limits<std::uint32_t>::max(),
                "a sample list holds fewer than 2^32 samples");
  SampleShape shape;
  shape.time_offset = sample.time_offset_;
  shape.label_offset = sample.label_offset_;
  shape.text_start_offset = sample.text_start_offset_;
  shape.text_cutoff_offset = sample.text_cutoff_offset_;
  if (sample.target_bar == -1) {
    shape.target_delta = SampleShape::kNoTarget;
  } else {
    const std::int64_t delta = static_cast<std::int64_t>(sample.target_bar) - sample.last_bar;
    FINFUSE_CHECK(delta > std::numeric_limits<std::int32_t>::min() && delta <= std::numeric_limits<std::int32_t>::max(),
                  "a sample's target bar (", sample.target_bar, ") lies 2^31 bars or more from its last bar (",
                  sample.last_bar, ")");
    shape.target_delta = static_cast<std::int32_t>(delta);
  }
  // Neighbours mostly share their shape: the last one is tried before the index.
  std::uint32_t index = 0;
  if (!shape_.empty() && shapes_[shape_.back()] == shape) {
    index = shape_.back();
  } else {
    const auto [at, added] = shape_index_.emplace(shape, static_cast<std::uint32_t>(shapes_.size()));
    if (added) {
      shapes_.push_back(shape);
    }
    index = at->second;
  }
  if (run_day_.empty() || run_day_.back() != sample.day.days()) {
    run_first_.push_back(entity_.size());
    run_day_.push_back(sample.day.days());
  }
  entity_.push_back(sample.entity);
  last_bar_.push_back(sample.last_bar);
  shape_.push_back(index);
  target_.push_back(sample.target);
  forward_return_.push_back(sample.forward_return);
}

SampleList SampleList::Builder::finish() {
  SampleList list;
  list.entity_ = std::move(entity_);
  list.last_bar_ = std::move(last_bar_);
  list.shape_ = std::move(shape_);
  list.target_ = std::move(target_);
  list.forward_return_ = std::move(forward_return_);
  list.shapes_ = std::move(shapes_);
  list.run_first_ = std::move(run_first_);
  list.run_day_ = std::move(run_day_);
  *this = Builder();
  return list;
}

}  // namespace finfuse::data
