// One sample: an entity and a decision, the bars its window ends with and its label comes from, the instants that
// bound its inputs and its label, and its target.
#pragma once

#include "finfuse/data/time.h"

#include <cstdint>
#include <limits>

namespace finfuse::data {

/// One (entity, decision) pair: 40 bytes. The decision instant is kept as 32-bit seconds from the start of `day` (UTC
/// midnight), the other instants as 32-bit seconds from the decision: set_instants() sets them with the day. A
/// SampleList holds many in less room (the offsets of most samples are shared) and hands them out by value.
struct Sample {
  /// Index into SampleSet::entities.
  std::int32_t entity = 0;
  /// Decision day. Written by set_instants(), with the instants it anchors.
  Date day;

 private:
  std::int32_t time_offset_ = 0;

 public:
  /// Index of the window's last bar in the entity's price series; the window is [last_bar - L + 1, last_bar].
  std::int32_t last_bar = 0;
  /// Index of the target bar (the label's future close); -1 while the label is not known yet.
  std::int32_t target_bar = 0;

 private:
  std::int32_t label_offset_ = 0;
  std::int32_t text_start_offset_ = 0;
  std::int32_t text_cutoff_offset_ = 0;

 public:
  /// The label (class index for direction, value otherwise).
  float target = 0.0f;
  /// The raw forward return, in single precision (as batches carry it).
  float forward_return = 0.0f;

  /// The decision instant.
  Timestamp time() const { return Timestamp::at(day, time_offset_); }
  /// When the label is observed (the target bar's close, or later); Timestamp's largest value while it is not known.
  Timestamp label_time() const { return at_offset(label_offset_); }
  /// The text window: texts with text_start() <= time < text_cutoff() belong to the sample; text_start() is
  /// Timestamp's smallest value for a window without a start.
  Timestamp text_start() const { return at_offset(text_start_offset_); }
  Timestamp text_cutoff() const { return at_offset(text_cutoff_offset_); }

  /// Sets the decision day and the four instants at once. finfuse::Error, the record unchanged, when `time` lies 68
  /// years or more from the start of `day`, or one of the others from `time`, other than the unbounded ends
  /// (Timestamp's largest and smallest values).
  void set_instants(Date day, Timestamp time, Timestamp label_time, Timestamp text_start, Timestamp text_cutoff);

 private:
  friend class SampleList;
  Timestamp at_offset(std::int32_t offset) const {
    if (offset == kUnboundedAfter) {
      return Timestamp(std::numeric_limits<std::int64_t>::max());
    }
    if (offset == kUnboundedBefore) {
      return Timestamp(std::numeric_limits<std::int64_t>::min());
    }
    return time() + offset;
  }
  static constexpr std::int32_t kUnboundedAfter = std::numeric_limits<std::int32_t>::max();
  static constexpr std::int32_t kUnboundedBefore = std::numeric_limits<std::int32_t>::min();
};
static_assert(sizeof(Sample) == 40, "a sample is 40 bytes");

}  // namespace finfuse::data
