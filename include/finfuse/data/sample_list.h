// The samples of a data set, kept by column: 6 to 10 bytes a sample in a daily panel instead of a Sample's 40 (its
// entity in 16 bits below 2^16 entities; its target not at all where it is its forward return, in a byte where it is
// a class, else in 32 bits; its forward return in 32 bits). A sample's instants and target bar, as offsets from its
// day, decision and last bar, take few distinct values in a daily panel (a shape), kept once per run of samples of the
// same shape; its day is kept once per run of samples on the same day; its last bar moves with the days, kept once
// per stretch of an entity's days without a gap.
#pragma once

#include "finfuse/core/shared_array.h"
#include "finfuse/data/sample.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace finfuse::data {

class BinaryReader;
class BinaryWriter;

/// What samples of the same shape share: their instants as offsets (see Sample) and their target bar's distance from
/// their last bar (kNoTarget for an unknown target, target_bar -1).
struct SampleShape {
  std::int32_t time_offset = 0;
  std::int32_t label_offset = 0;
  std::int32_t text_start_offset = 0;
  std::int32_t text_cutoff_offset = 0;
  std::int32_t target_delta = 0;

  static constexpr std::int32_t kNoTarget = std::numeric_limits<std::int32_t>::min();
  bool operator==(const SampleShape& other) const {
    return time_offset == other.time_offset && label_offset == other.label_offset &&
           text_start_offset == other.text_start_offset && text_cutoff_offset == other.text_cutoff_offset &&
           target_delta == other.target_delta;
  }
};

/// Samples in a fixed order, immutable, shared (not copied) by the data sets built on them: columns of their own or
/// views of a dataset cache file. operator[] returns a Sample by value.
class SampleList {
 public:
  class Builder;

  /// Yields the samples by value: an input iterator (a range-for over the list, or a copy into a vector).
  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Sample;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Sample;

    const_iterator(const SampleList* list, std::size_t i) : list_(list), i_(i) {}
    Sample operator*() const { return (*list_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++i_;
      return before;
    }
    bool operator==(const const_iterator& other) const { return i_ == other.i_; }
    bool operator!=(const const_iterator& other) const { return i_ != other.i_; }

   private:
    const SampleList* list_;
    std::size_t i_;
  };

  SampleList() = default;
  /// The samples of `samples`, in their order. finfuse::Error for a target bar 2^31 bars or more from its last bar or
  /// a negative entity.
  SampleList(const std::vector<Sample>& samples);  // NOLINT(google-explicit-constructor): a list of samples is one

  std::size_t size() const { return forward_return_.size(); }
  bool empty() const { return forward_return_.empty(); }
  Sample operator[](std::size_t i) const;
  Sample front() const { return (*this)[0]; }
  Sample back() const { return (*this)[size() - 1]; }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size()); }

  /// Single fields, without making the whole sample.
  std::int32_t entity(std::size_t i) const { return wide_entities_ ? entity32_[i] : std::int32_t{entity16_[i]}; }
  Date day(std::size_t i) const;
  std::int32_t last_bar(std::size_t i) const;
  /// The last bars of samples [first, first + count), into `out`: what last_bar() gives, in one pass.
  void last_bars(std::size_t first, std::size_t count, std::int32_t* out) const;
  /// The days and the last bars of the samples at `indices` (a batch), into `out`: what day() and last_bar() give,
  /// without a search for an index on the same run of days as the one before (a day's samples, in order).
  void days_of(const std::vector<std::size_t>& indices, Date* out) const;
  void last_bars_of(const std::vector<std::size_t>& indices, std::int32_t* out) const;
  /// The targets of the samples at `indices`, into `out`: what target() gives, an excess return's day found as days_of
  /// finds it.
  void targets_of(const std::vector<std::size_t>& indices, float* out) const;
  float target(std::size_t i) const;
  float forward_return(std::size_t i) const { return forward_return_[i]; }

  /// How the targets are kept: not at all (each is its sample's forward return), a byte each (each is a class 0 to
  /// 254, or unknown: NaN), a float each, or a mean a run of days (each is its forward return minus the mean of the
  /// finite forward returns on its run of days, unknown where its own is not finite: an excess return).
  enum class TargetKind : std::uint8_t { forward_return = 0, code = 1, value = 2, excess_return = 3 };
  TargetKind target_kind() const { return target_kind_; }
  /// Whether the entities are kept in 32 bits (one of them is 2^16 or above), else in 16.
  bool wide_entities() const { return wide_entities_; }
  /// A target's byte where it is a class or unknown (255, for NaN), compared bit for bit (-0 and NaNs other than
  /// the quiet NaN are not).
  static std::optional<std::uint8_t> code_of_target(float target);
  static float target_of_code(std::uint8_t code) {
    return code == kUnknownCode ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(code);
  }
  static constexpr std::uint8_t kUnknownCode = 255;

  /// The samples' distinct days, in order (from the runs of days: no pass over the samples).
  std::vector<Date> days() const;
  std::vector<Sample> to_vector() const;
  /// Distinct shapes and runs of days: how far the samples share their offsets and days.
  std::size_t shapes() const { return shapes_.size(); }
  std::size_t day_runs() const { return run_first_.size(); }
  /// Whether the shapes are kept once per run of samples of the same shape (else one index a sample), and the last
  /// bars once per stretch of an entity's samples on consecutive runs of days (else one a sample): each is kept so
  /// when that takes less than half the room of a column.
  bool shapes_in_runs() const { return shape_.size() != size() || empty(); }
  bool last_bars_in_stretches() const { return last_bar_.size() != size() || empty(); }
  /// How many runs of shapes and stretches of last bars there are (0 where a column is kept).
  std::size_t shape_runs() const { return shape_run_.size(); }
  std::size_t stretches() const { return stretches_.size(); }
  /// Each entity's lowest and highest last bar, for entities 0 up to the highest the samples name (lowest above
  /// highest for an entity without samples): from the stretches where the last bars are kept in them, without a
  /// pass over the samples.
  std::vector<std::pair<std::int32_t, std::int32_t>> last_bar_bounds() const;
  /// "22 shape(s) in 2520 run(s), last bars in 8000 stretch(es)" (or "a column each"): for logs.
  std::string layout() const;
  /// Bytes the columns hold.
  std::size_t bytes() const;
  /// Whether the columns are views of bytes kept elsewhere (a mapped dataset cache file).
  bool is_view() const { return forward_return_.is_view(); }
  /// Whether both lists read the same columns (one was copied from the other, which copies no samples).
  bool shares(const SampleList& other) const {
    return forward_return_.data() == other.forward_return_.data() && size() == other.size();
  }

  void save(BinaryWriter& out) const;
  /// Reads what save() wrote, in place where the reader's bytes are kept (a mapped file); in.inconsistent() for
  /// columns of different lengths, a shape index outside the shapes, runs that do not start at 0 and rise, or an
  /// entity's stretches of last bars that do not hold each of its samples once.
  static SampleList load(BinaryReader& in);

  /// An entity's samples on runs of days [from, to] have last bar run + delta.
  struct Stretch {
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    std::int32_t delta = 0;
  };

 private:
  /// The run of days sample i lies in.
  std::size_t run_of(std::size_t i) const;
  /// The same, trying `hint` (the run of a sample before) and the run after it first.
  std::size_t run_near(std::size_t i, std::size_t hint) const;
  std::uint32_t shape_of(std::size_t i) const;
  std::int32_t last_bar_on(std::size_t i, std::size_t run) const;

  /// Each sample's entity: in 16 bits (entity16_) unless one is 2^16 or above (entity32_); the other is empty.
  bool wide_entities_ = false;
  SharedArray<std::uint16_t> entity16_;
  SharedArray<std::int32_t> entity32_;
  /// Each sample's target as target_kind_ says: none, a byte (target_code_), a float (target_), or the mean of each
  /// run of days (run_mean_).
  TargetKind target_kind_ = TargetKind::forward_return;
  SharedArray<std::uint8_t> target_code_;
  SharedArray<float> target_;
  SharedArray<double> run_mean_;
  SharedArray<float> forward_return_;
  SharedArray<SampleShape> shapes_;
  /// Run r holds samples [run_first_[r], run_first_[r + 1]), all on day run_day_[r].
  SharedArray<std::uint64_t> run_first_;
  SharedArray<std::int32_t> run_day_;
  /// Each sample's index into shapes_, or (shape_ empty) runs: samples from shape_first_[k] on have shape_run_[k].
  SharedArray<std::uint32_t> shape_;
  SharedArray<std::uint64_t> shape_first_;
  SharedArray<std::uint32_t> shape_run_;
  /// Each sample's last bar, or (last_bar_ empty) entity e's stretches [stretch_begin_[e], stretch_begin_[e + 1]) of
  /// stretches_, in the order of their runs.
  SharedArray<std::int32_t> last_bar_;
  SharedArray<std::uint64_t> stretch_begin_;
  SharedArray<Stretch> stretches_;
};

/// Collects samples one at a time, in the list's order, in the room the list takes, and makes the list.
class SampleList::Builder {
 public:
  void reserve(std::size_t samples);
  /// finfuse::Error for a target bar 2^31 bars or more from its last bar, a negative entity, or past 2^32 samples.
  void add(const Sample& sample);

  std::size_t size() const { return forward_return_.size(); }
  /// Runs of consecutive samples on the same day: run r holds samples [run_begin(r), run_begin(r + 1)), the last one
  /// up to size().
  std::size_t day_runs() const { return run_first_.size(); }
  std::size_t run_begin(std::size_t r) const { return r < run_first_.size() ? run_first_[r] : size(); }
  float target(std::size_t i) const;
  void set_target(std::size_t i, float value);
  float forward_return(std::size_t i) const { return forward_return_[i]; }
  /// Each sample's target becomes its forward return minus the mean of the finite forward returns on its run of days
  /// (in double precision, in the samples' order), unknown (NaN) where its own is not finite: an excess return, kept
  /// as one mean a run of days instead of a float a sample.
  void demean_targets_by_day();

  /// The list; the builder is left empty.
  SampleList finish();

 private:
  struct ShapeHash {
    std::size_t operator()(const SampleShape& s) const;
  };
  void track_shape(std::uint32_t index);
  void track_last_bar(std::int32_t entity, std::int32_t last_bar);
  // Each entity's stretches together, in the order of their runs: entity e's are [begin[e], begin[e + 1]).
  void group_stretches(std::vector<std::uint64_t>& begin, std::vector<Stretch>& grouped) const;
  // The samples so far as columns (while runs or stretches would take more room).
  void shapes_to_column();
  void last_bars_to_column();
  std::int32_t entity(std::size_t i) const { return wide_entities_ ? entity32_[i] : std::int32_t{entity16_[i]}; }
  void add_entity(std::int32_t entity);
  void add_target(float target, float forward_return);
  // The targets so far kept as `kind` (which holds each of them).
  void keep_targets_as(TargetKind kind);

  std::size_t reserved_ = 0;
  bool wide_entities_ = false;
  std::vector<std::uint16_t> entity16_;
  std::vector<std::int32_t> entity32_;
  TargetKind target_kind_ = TargetKind::forward_return;
  std::vector<std::uint8_t> target_code_;
  std::vector<float> target_;
  std::vector<double> run_mean_;
  std::vector<float> forward_return_;
  std::vector<SampleShape> shapes_;
  std::unordered_map<SampleShape, std::uint32_t, ShapeHash> shape_index_;
  std::vector<std::uint64_t> run_first_;
  std::vector<std::int32_t> run_day_;
  // The runs of shapes and the stretches of last bars, followed as samples come while they stay few; the columns
  // once they do not.
  std::uint32_t last_shape_ = 0;
  bool shape_runs_few_ = true;
  std::vector<std::uint32_t> shape_;
  std::vector<std::int32_t> last_bar_;
  std::vector<std::uint64_t> shape_first_;
  std::vector<std::uint32_t> shape_run_;
  bool stretches_few_ = true;
  std::vector<std::uint32_t> open_stretch_;  // per entity: its last stretch in stretches_, kNone for none
  std::vector<std::int32_t> stretch_entity_;
  std::vector<Stretch> stretches_;
  std::size_t entities_seen_ = 0;
};

}  // namespace finfuse::data
