#include "finfuse/data/sample_list.h"

#include "finfuse/core/check.h"
#include "finfuse/data/binary_io.h"

#include <c10/util/hash.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace finfuse::data {

namespace {

constexpr std::uint32_t kNoStretch = std::numeric_limits<std::uint32_t>::max();

// A sample's excess return: its forward return minus its run's mean, unknown where the return is not finite.
float excess_return(float forward_return, double run_mean) {
  return std::isfinite(forward_return) ? static_cast<float>(static_cast<double>(forward_return) - run_mean)
                                       : std::numeric_limits<float>::quiet_NaN();
}

// The last of the sorted `starts` at or before `i`, as an index (starts[0] is at or before every i).
template <typename T>
std::size_t last_start(const SharedArray<T>& starts, std::size_t i) {
  const auto* at = std::upper_bound(starts.begin(), starts.end(), static_cast<T>(i));
  return static_cast<std::size_t>(at - starts.begin()) - 1;
}

// The run of days of rising sample indices, given the first sample of each of `runs` runs: moves on as they rise.
class RunCursor {
 public:
  RunCursor(const std::uint64_t* first, std::size_t runs, std::size_t run = 0) : first_(first), runs_(runs), run_(run) {}
  std::size_t operator()(std::size_t i) {
    while (run_ + 1 < runs_ && first_[run_ + 1] <= i) {
      ++run_;
    }
    return run_;
  }

 private:
  const std::uint64_t* first_;
  std::size_t runs_;
  std::size_t run_;
};

}  // namespace

std::size_t SampleList::run_of(std::size_t i) const { return last_start(run_first_, i); }

std::size_t SampleList::run_near(std::size_t i, std::size_t hint) const {
  const std::size_t runs = run_first_.size();
  for (std::size_t r = hint; r < runs && r <= hint + 1; ++r) {
    if (run_first_[r] <= i && (r + 1 == runs || i < run_first_[r + 1])) {
      return r;
    }
  }
  return run_of(i);
}

std::uint32_t SampleList::shape_of(std::size_t i) const {
  return shape_.size() == size() ? shape_[i] : shape_run_[last_start(shape_first_, i)];
}

std::int32_t SampleList::last_bar_on(std::size_t i, std::size_t run) const {
  if (last_bar_.size() == size()) {
    return last_bar_[i];
  }
  const auto entity = static_cast<std::size_t>(this->entity(i));
  const Stretch* first = stretches_.begin() + stretch_begin_[entity];
  const Stretch* last = stretches_.begin() + stretch_begin_[entity + 1];
  if (last - first > 1) {
    first = std::upper_bound(first, last, run, [](std::size_t r, const Stretch& s) { return r < s.from; }) - 1;
  }
  return static_cast<std::int32_t>(static_cast<std::int64_t>(run) + first->delta);
}

void SampleList::days_of(const std::vector<std::size_t>& indices, Date* out) const {
  std::size_t run = 0;
  for (std::size_t k = 0; k < indices.size(); ++k) {
    FINFUSE_CHECK(indices[k] < size(), "sample ", indices[k], " lies outside the ", size(), " samples");
    run = run_near(indices[k], run);
    out[k] = Date(run_day_[run]);
  }
}

void SampleList::last_bars_of(const std::vector<std::size_t>& indices, std::int32_t* out) const {
  const bool column = last_bar_.size() == size();
  std::size_t run = 0;
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::size_t i = indices[k];
    FINFUSE_CHECK(i < size(), "sample ", i, " lies outside the ", size(), " samples");
    if (column) {
      out[k] = last_bar_[i];
    } else {
      run = run_near(i, run);
      out[k] = last_bar_on(i, run);
    }
  }
}

void SampleList::targets_of(const std::vector<std::size_t>& indices, float* out) const {
  std::size_t run = 0;
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::size_t i = indices[k];
    FINFUSE_CHECK(i < size(), "sample ", i, " lies outside the ", size(), " samples");
    if (target_kind_ == TargetKind::excess_return) {
      run = run_near(i, run);
      out[k] = excess_return(forward_return_[i], run_mean_[run]);
    } else {
      out[k] = target(i);
    }
  }
}

Sample SampleList::operator[](std::size_t i) const {
  const std::size_t run = run_of(i);
  const SampleShape& shape = shapes_[shape_of(i)];
  Sample s;
  s.entity = entity(i);
  s.day = Date(run_day_[run]);
  s.time_offset_ = shape.time_offset;
  s.last_bar = last_bar_on(i, run);
  s.target_bar = shape.target_delta == SampleShape::kNoTarget
                     ? -1
                     : static_cast<std::int32_t>(static_cast<std::int64_t>(s.last_bar) + shape.target_delta);
  s.label_offset_ = shape.label_offset;
  s.text_start_offset_ = shape.text_start_offset;
  s.text_cutoff_offset_ = shape.text_cutoff_offset;
  s.target = target(i);
  s.forward_return = forward_return_[i];
  return s;
}

Date SampleList::day(std::size_t i) const { return Date(run_day_[run_of(i)]); }

std::int32_t SampleList::last_bar(std::size_t i) const {
  return last_bar_.size() == size() ? last_bar_[i] : last_bar_on(i, run_of(i));
}

void SampleList::last_bars(std::size_t first, std::size_t count, std::int32_t* out) const {
  FINFUSE_CHECK(first <= size() && count <= size() - first, "samples [", first, ", ", first + count,
                ") lie outside the ", size(), " samples");
  if (last_bar_.size() == size()) {
    std::copy_n(last_bar_.begin() + first, count, out);
    return;
  }
  if (count == 0) {
    return;
  }
  RunCursor run(run_first_.data(), run_first_.size(), run_of(first));
  for (std::size_t i = first; i < first + count; ++i) {
    out[i - first] = last_bar_on(i, run(i));
  }
}

std::vector<std::pair<std::int32_t, std::int32_t>> SampleList::last_bar_bounds() const {
  constexpr std::pair<std::int32_t, std::int32_t> kNone{std::numeric_limits<std::int32_t>::max(),
                                                        std::numeric_limits<std::int32_t>::min()};
  std::vector<std::pair<std::int32_t, std::int32_t>> bounds;
  const auto widen = [&](std::size_t entity, std::int32_t low, std::int32_t high) {
    bounds[entity].first = std::min(bounds[entity].first, low);
    bounds[entity].second = std::max(bounds[entity].second, high);
  };
  if (last_bar_.size() == size()) {
    for (std::size_t i = 0; i < size(); ++i) {
      FINFUSE_CHECK(this->entity(i) >= 0, "sample ", i, " has a negative entity ", this->entity(i));
      const auto entity = static_cast<std::size_t>(this->entity(i));
      if (entity >= bounds.size()) {
        bounds.resize(entity + 1, kNone);
      }
      widen(entity, last_bar_[i], last_bar_[i]);
    }
    return bounds;
  }
  // A stretch's last bars rise with its runs: its first and last run bound them.
  bounds.assign(stretch_begin_.size() - 1, kNone);
  for (std::size_t e = 0; e < bounds.size(); ++e) {
    for (std::uint64_t k = stretch_begin_[e]; k < stretch_begin_[e + 1]; ++k) {
      const Stretch& s = stretches_[k];
      widen(e, static_cast<std::int32_t>(static_cast<std::int64_t>(s.from) + s.delta),
            static_cast<std::int32_t>(static_cast<std::int64_t>(s.to) + s.delta));
    }
  }
  return bounds;
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

std::string SampleList::layout() const {
  const std::string shapes = shapes_in_runs() ? fmt::format("{} shape(s) in {} run(s)", shapes_.size(), shape_runs())
                                              : fmt::format("{} shape(s), one a sample", shapes_.size());
  const std::string bars = last_bars_in_stretches() ? fmt::format("last bars in {} stretch(es)", stretches())
                                                    : std::string("a last bar a sample");
  return fmt::format("{}, {}", shapes, bars);
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
  return entity16_.size() * sizeof(std::uint16_t) + entity32_.size() * sizeof(std::int32_t) + target_code_.size() +
         run_mean_.size() * sizeof(double) +
         (target_.size() + forward_return_.size()) * sizeof(float) + shapes_.size() * sizeof(SampleShape) +
         run_first_.size() * (sizeof(std::uint64_t) + sizeof(std::int32_t)) + shape_.size() * sizeof(std::uint32_t) +
         shape_first_.size() * (sizeof(std::uint64_t) + sizeof(std::uint32_t)) +
         last_bar_.size() * sizeof(std::int32_t) + stretch_begin_.size() * sizeof(std::uint64_t) +
         stretches_.size() * sizeof(Stretch);
}

void SampleList::save(BinaryWriter& out) const {
  out.pod<std::uint8_t>(wide_entities_ ? 1 : 0);
  out.vec(entity16_);
  out.vec(entity32_);
  out.pod(static_cast<std::uint8_t>(target_kind_));
  out.vec(target_code_);
  out.vec(target_);
  out.vec(run_mean_);
  out.vec(forward_return_);
  out.vec(shapes_);
  out.vec(run_first_);
  out.vec(run_day_);
  out.vec(shape_);
  out.vec(shape_first_);
  out.vec(shape_run_);
  out.vec(last_bar_);
  out.vec(stretch_begin_);
  out.vec(stretches_);
}

namespace {

// Whether `starts` begin at 0 and rise, below n (none for n = 0).
bool runs_fit(const SharedArray<std::uint64_t>& starts, std::size_t n) {
  if (n == 0 || starts.empty()) {
    return n == 0 && starts.empty();
  }
  return starts[0] == 0 && starts.back() < n &&
         std::adjacent_find(starts.begin(), starts.end(), [](auto a, auto b) { return b <= a; }) == starts.end();
}

}  // namespace

SampleList SampleList::load(BinaryReader& in) {
  SampleList list;
  const auto wide = in.pod<std::uint8_t>();
  list.entity16_ = in.array<std::uint16_t>();
  list.entity32_ = in.array<std::int32_t>();
  const auto kind = in.pod<std::uint8_t>();
  list.target_code_ = in.array<std::uint8_t>();
  list.target_ = in.array<float>();
  list.run_mean_ = in.array<double>();
  list.forward_return_ = in.array<float>();
  list.shapes_ = in.array<SampleShape>();
  list.run_first_ = in.array<std::uint64_t>();
  list.run_day_ = in.array<std::int32_t>();
  list.shape_ = in.array<std::uint32_t>();
  list.shape_first_ = in.array<std::uint64_t>();
  list.shape_run_ = in.array<std::uint32_t>();
  list.last_bar_ = in.array<std::int32_t>();
  list.stretch_begin_ = in.array<std::uint64_t>();
  list.stretches_ = in.array<Stretch>();
  const std::size_t n = list.forward_return_.size();
  if (wide > 1 || kind > static_cast<std::uint8_t>(TargetKind::excess_return)) {
    in.inconsistent("the samples' entity width or target kind");
  }
  list.wide_entities_ = wide == 1;
  list.target_kind_ = static_cast<TargetKind>(kind);
  const auto length = [n](bool kept) { return kept ? n : 0; };
  if (list.entity16_.size() != length(!list.wide_entities_) || list.entity32_.size() != length(list.wide_entities_) ||
      list.target_code_.size() != length(list.target_kind_ == TargetKind::code) ||
      list.target_.size() != length(list.target_kind_ == TargetKind::value) ||
      list.run_mean_.size() != (list.target_kind_ == TargetKind::excess_return ? list.run_first_.size() : 0) ||
      list.run_day_.size() != list.run_first_.size() || list.shape_first_.size() != list.shape_run_.size()) {
    in.inconsistent("the samples' columns have different lengths");
  }
  if (!std::all_of(list.run_mean_.begin(), list.run_mean_.end(), [](double m) { return std::isfinite(m); })) {
    in.inconsistent("a day's mean forward return is not finite");
  }
  if (!runs_fit(list.run_first_, n)) {
    in.inconsistent("the samples' runs of days");
  }
  const auto shapes = static_cast<std::uint32_t>(std::min<std::size_t>(list.shapes_.size(),
                                                                       std::numeric_limits<std::uint32_t>::max()));
  const auto outside = [&](const SharedArray<std::uint32_t>& index) {
    return std::any_of(index.begin(), index.end(), [&](std::uint32_t s) { return s >= shapes; });
  };
  const bool shape_column = list.shape_.size() == n && list.shape_first_.empty();
  if (!shape_column && (!list.shape_.empty() || !runs_fit(list.shape_first_, n))) {
    in.inconsistent("the samples' runs of shapes");
  }
  if (outside(list.shape_) || outside(list.shape_run_)) {
    in.inconsistent("a sample's shape lies outside the shapes");
  }
  if (list.last_bar_.size() == n && list.stretch_begin_.empty() && list.stretches_.empty()) {
    if (std::any_of(list.entity32_.begin(), list.entity32_.end(), [](std::int32_t e) { return e < 0; })) {
      in.inconsistent("a sample's entity is negative");
    }
    return list;
  }
  // The stretches: each entity's rise through the runs, and every sample lies in one of its entity's.
  const auto& begin = list.stretch_begin_;
  const auto& stretches = list.stretches_;
  const std::size_t runs = list.run_first_.size();
  bool fit = list.last_bar_.empty() && n > 0 && !begin.empty() && begin[0] == 0 && begin.back() == stretches.size() &&
             std::is_sorted(begin.begin(), begin.end());
  for (std::size_t e = 0; fit && e + 1 < begin.size(); ++e) {
    for (std::uint64_t k = begin[e]; fit && k < begin[e + 1]; ++k) {
      const Stretch& s = stretches[k];
      fit = s.from <= s.to && s.to < runs && (k == begin[e] || stretches[k - 1].to < s.from) &&
            static_cast<std::int64_t>(s.from) + s.delta >= std::numeric_limits<std::int32_t>::min() &&
            static_cast<std::int64_t>(s.to) + s.delta <= std::numeric_limits<std::int32_t>::max();
    }
  }
  if (fit) {
    const std::size_t entities = begin.size() - 1;
    std::vector<std::uint64_t> at(begin.begin(), begin.end() - 1);  // each entity's stretch so far
    RunCursor run_of(list.run_first_.data(), runs);
    for (std::size_t i = 0; fit && i < n; ++i) {
      const std::size_t run = run_of(i);
      const std::int32_t e = list.entity(i);
      const auto entity = static_cast<std::size_t>(e);
      fit = e >= 0 && entity < entities;
      if (fit) {
        std::uint64_t& k = at[entity];
        while (k < begin[entity + 1] && stretches[k].to < run) {
          ++k;
        }
        fit = k < begin[entity + 1] && stretches[k].from <= run;
      }
    }
  }
  if (!fit) {
    in.inconsistent("the samples' stretches of last bars");
  }
  return list;
}

// ---------------------------------------------------------------------------------------------------------- builder

std::size_t SampleList::Builder::ShapeHash::operator()(const SampleShape& s) const {
  return c10::get_hash(s.time_offset, s.label_offset, s.text_start_offset, s.text_cutoff_offset, s.target_delta);
}

void SampleList::Builder::reserve(std::size_t samples) {
  reserved_ = samples;
  if (wide_entities_) {
    entity32_.reserve(samples);
  } else {
    entity16_.reserve(samples);
  }
  if (target_kind_ == TargetKind::code) {
    target_code_.reserve(samples);
  } else if (target_kind_ == TargetKind::value) {
    target_.reserve(samples);
  }
  forward_return_.reserve(samples);
}

void SampleList::Builder::add_entity(std::int32_t entity) {
  if (!wide_entities_ && entity > std::numeric_limits<std::uint16_t>::max()) {
    entity32_.reserve(std::max(reserved_, size() + 1));
    entity32_.assign(entity16_.begin(), entity16_.end());
    entity16_ = std::vector<std::uint16_t>();
    wide_entities_ = true;
  }
  if (wide_entities_) {
    entity32_.push_back(entity);
  } else {
    entity16_.push_back(static_cast<std::uint16_t>(entity));
  }
}

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

// Sample i's target from the columns of a list or a builder, as `kind` keeps it (`run_of(i)`: its run of days).
template <typename Codes, typename Values, typename Returns, typename Means, typename RunOf>
float target_at(SampleList::TargetKind kind, std::size_t i, const Codes& codes, const Values& values,
                const Returns& returns, const Means& means, RunOf run_of) {
  switch (kind) {
    case SampleList::TargetKind::forward_return:
      return returns[i];
    case SampleList::TargetKind::code:
      return SampleList::target_of_code(codes[i]);
    case SampleList::TargetKind::excess_return:
      return excess_return(returns[i], means[run_of(i)]);
    default:
      return values[i];
  }
}

}  // namespace

float SampleList::target(std::size_t i) const {
  return target_at(target_kind_, i, target_code_, target_, forward_return_, run_mean_,
                   [this](std::size_t k) { return run_of(k); });
}

std::optional<std::uint8_t> SampleList::code_of_target(float target) {
  if (same_bits(target, std::numeric_limits<float>::quiet_NaN())) {
    return kUnknownCode;
  }
  if (target >= 0.0F && target < static_cast<float>(kUnknownCode)) {
    const auto code = static_cast<std::uint8_t>(target);
    if (same_bits(target, static_cast<float>(code))) {
      return code;
    }
  }
  return std::nullopt;
}

float SampleList::Builder::target(std::size_t i) const {
  return target_at(target_kind_, i, target_code_, target_, forward_return_, run_mean_, [this](std::size_t k) {
    return static_cast<std::size_t>(std::upper_bound(run_first_.begin(), run_first_.end(), k) - run_first_.begin() - 1);
  });
}

void SampleList::Builder::demean_targets_by_day() {
  std::vector<double> means(run_first_.size(), 0.0);
  for (std::size_t r = 0; r < run_first_.size(); ++r) {
    double sum = 0.0;  // in the samples' order, from 0
    std::size_t finite = 0;
    for (std::size_t k = run_first_[r]; k < run_begin(r + 1); ++k) {
      if (std::isfinite(forward_return_[k])) {
        sum += forward_return_[k];
        ++finite;
      }
    }
    if (finite > 0) {
      means[r] = sum / static_cast<double>(finite);
    }
  }
  run_mean_ = std::move(means);
  target_code_ = std::vector<std::uint8_t>();
  target_ = std::vector<float>();
  target_kind_ = TargetKind::excess_return;
}

void SampleList::Builder::keep_targets_as(TargetKind kind) {
  if (kind == target_kind_) {
    return;
  }
  const std::size_t n = size();
  const std::size_t room = std::max(reserved_, n + 1);
  if (kind == TargetKind::code) {
    std::vector<std::uint8_t> codes;
    codes.reserve(room);
    for (std::size_t i = 0; i < n; ++i) {
      codes.push_back(*code_of_target(target(i)));
    }
    target_code_ = std::move(codes);
  } else {
    std::vector<float> values;
    values.reserve(room);
    for (std::size_t i = 0; i < n; ++i) {
      values.push_back(target(i));
    }
    target_ = std::move(values);
    target_code_ = std::vector<std::uint8_t>();
    run_mean_ = std::vector<double>();
  }
  target_kind_ = kind;
}

void SampleList::Builder::add_target(float target, float forward_return) {
  if (target_kind_ == TargetKind::excess_return) {
    keep_targets_as(TargetKind::value);  // a sample after the means: each target its own
  }
  if (target_kind_ == TargetKind::forward_return && !same_bits(target, forward_return)) {
    // A class while every target so far (each its forward return) is one too; a float otherwise.
    bool codes = code_of_target(target).has_value();
    for (std::size_t i = 0; codes && i < size(); ++i) {
      codes = code_of_target(forward_return_[i]).has_value();
    }
    keep_targets_as(codes ? TargetKind::code : TargetKind::value);
  }
  if (target_kind_ == TargetKind::code) {
    const auto code = code_of_target(target);
    if (code) {
      target_code_.push_back(*code);
    } else {
      keep_targets_as(TargetKind::value);
    }
  }
  if (target_kind_ == TargetKind::value) {
    target_.push_back(target);
  }
  forward_return_.push_back(forward_return);
}

void SampleList::Builder::set_target(std::size_t i, float value) {
  FINFUSE_CHECK(i < size(), "sample ", i, " lies outside the ", size(), " samples");
  if (target_kind_ == TargetKind::forward_return && same_bits(value, forward_return_[i])) {
    return;
  }
  if (target_kind_ == TargetKind::code) {
    const auto code = code_of_target(value);
    if (code) {
      target_code_[i] = *code;
      return;
    }
  }
  keep_targets_as(TargetKind::value);
  target_[i] = value;
}

void SampleList::Builder::add(const Sample& sample) {
  FINFUSE_CHECK(size() < std::numeric_limits<std::uint32_t>::max(),
                "a sample list holds fewer than 2^32 samples");
  FINFUSE_CHECK(sample.entity >= 0, "a sample's entity is an index (not ", sample.entity, ")");
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
  if (!forward_return_.empty() && shapes_[last_shape_] == shape) {
    index = last_shape_;
  } else {
    const auto [at, added] = shape_index_.emplace(shape, static_cast<std::uint32_t>(shapes_.size()));
    if (added) {
      shapes_.push_back(shape);
    }
    index = at->second;
  }
  if (run_day_.empty() || run_day_.back() != sample.day.days()) {
    run_first_.push_back(size());
    run_day_.push_back(sample.day.days());
  }
  last_shape_ = index;
  track_shape(index);
  track_last_bar(sample.entity, sample.last_bar);
  if (!shape_runs_few_) {
    shape_.push_back(index);
  }
  if (!stretches_few_) {
    last_bar_.push_back(sample.last_bar);
  }
  add_entity(sample.entity);
  add_target(sample.target, sample.forward_return);
}

// Runs past a quarter of the samples (beyond a few) take more room than the column: they are no longer followed.
void SampleList::Builder::track_shape(std::uint32_t index) {
  if (!shape_runs_few_ || (!shape_run_.empty() && shape_run_.back() == index)) {
    return;
  }
  shape_first_.push_back(size());
  shape_run_.push_back(index);
  if (shape_run_.size() > 1024 + size() / 4) {
    shapes_to_column();
  }
}

void SampleList::Builder::shapes_to_column() {
  std::vector<std::uint32_t> column;
  column.reserve(std::max(reserved_, size()));
  for (std::size_t k = 0; k < shape_run_.size(); ++k) {
    column.resize(k + 1 < shape_first_.size() ? shape_first_[k + 1] : size(), shape_run_[k]);
  }
  shape_ = std::move(column);
  shape_runs_few_ = false;
  shape_first_ = std::vector<std::uint64_t>();
  shape_run_ = std::vector<std::uint32_t>();
}

// An entity's last bar that keeps its distance from the run of days continues its stretch; one that does not starts
// the next. Two samples of an entity on one run with different last bars (intraday decisions), entities far beyond
// the samples, or more breaks than a quarter of the samples: the last bars stay a column.
void SampleList::Builder::track_last_bar(std::int32_t entity, std::int32_t last_bar) {
  if (!stretches_few_) {
    return;
  }
  const auto e = static_cast<std::size_t>(entity);
  if (e >= open_stretch_.size()) {
    if (e >= std::max<std::size_t>(std::size_t{1} << 20, 2 * size())) {
      last_bars_to_column();
      return;
    }
    open_stretch_.resize(e + 1, kNoStretch);
  }
  const auto run = static_cast<std::uint32_t>(run_first_.size() - 1);
  const std::int64_t delta = static_cast<std::int64_t>(last_bar) - run;
  if (delta < std::numeric_limits<std::int32_t>::min()) {
    last_bars_to_column();
    return;
  }
  std::uint32_t& open = open_stretch_[e];
  if (open == kNoStretch) {
    ++entities_seen_;
  } else {
    Stretch& s = stretches_[open];
    if (s.delta == delta) {
      s.to = run;
      return;
    }
    if (s.to == run) {
      last_bars_to_column();
      return;
    }
  }
  open = static_cast<std::uint32_t>(stretches_.size());
  stretches_.push_back(Stretch{run, run, static_cast<std::int32_t>(delta)});
  stretch_entity_.push_back(entity);
  if (stretches_.size() - entities_seen_ > 1024 + size() / 4) {
    last_bars_to_column();
  }
}

void SampleList::Builder::group_stretches(std::vector<std::uint64_t>& begin, std::vector<Stretch>& grouped) const {
  begin.assign(open_stretch_.size() + 1, 0);
  for (const std::int32_t e : stretch_entity_) {
    ++begin[static_cast<std::size_t>(e) + 1];
  }
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  std::vector<std::uint64_t> at(begin.begin(), begin.end() - 1);
  grouped.resize(stretches_.size());
  for (std::size_t k = 0; k < stretches_.size(); ++k) {
    grouped[at[static_cast<std::size_t>(stretch_entity_[k])]++] = stretches_[k];
  }
}

void SampleList::Builder::last_bars_to_column() {
  std::vector<std::uint64_t> begin;
  std::vector<Stretch> grouped;
  group_stretches(begin, grouped);
  std::vector<std::int32_t> column;
  column.reserve(std::max(reserved_, size()));
  std::vector<std::uint64_t> at(begin.begin(), begin.end() - 1);  // each entity's stretch so far
  RunCursor run_of(run_first_.data(), run_first_.size());
  for (std::size_t i = 0; i < size(); ++i) {
    const std::size_t run = run_of(i);
    std::uint64_t& k = at[static_cast<std::size_t>(entity(i))];
    while (grouped[k].to < run) {
      ++k;
    }
    column.push_back(static_cast<std::int32_t>(static_cast<std::int64_t>(run) + grouped[k].delta));
  }
  last_bar_ = std::move(column);
  stretches_few_ = false;
  open_stretch_ = std::vector<std::uint32_t>();
  stretch_entity_ = std::vector<std::int32_t>();
  stretches_ = std::vector<Stretch>();
}

SampleList SampleList::Builder::finish() {
  const std::size_t n = size();
  SampleList list;
  // Runs and stretches where they take less than half the room of a column.
  if (shape_runs_few_ && (n == 0 || shape_run_.size() * (sizeof(std::uint64_t) + sizeof(std::uint32_t)) * 2 >=
                                        n * sizeof(std::uint32_t))) {
    shapes_to_column();
  }
  if (shape_runs_few_) {
    list.shape_first_ = std::move(shape_first_);
    list.shape_run_ = std::move(shape_run_);
  } else {
    list.shape_ = std::move(shape_);
  }
  if (stretches_few_ && (n == 0 || (stretches_.size() * sizeof(Stretch) + (open_stretch_.size() + 1) *
                                        sizeof(std::uint64_t)) * 2 >= n * sizeof(std::int32_t))) {
    last_bars_to_column();
  }
  if (stretches_few_) {
    std::vector<std::uint64_t> begin;
    std::vector<Stretch> grouped;
    group_stretches(begin, grouped);
    list.stretch_begin_ = std::move(begin);
    list.stretches_ = std::move(grouped);
  } else {
    list.last_bar_ = std::move(last_bar_);
  }
  list.wide_entities_ = wide_entities_;
  list.entity16_ = std::move(entity16_);
  list.entity32_ = std::move(entity32_);
  list.target_kind_ = target_kind_;
  list.target_code_ = std::move(target_code_);
  list.target_ = std::move(target_);
  list.run_mean_ = std::move(run_mean_);
  list.forward_return_ = std::move(forward_return_);
  list.shapes_ = std::move(shapes_);
  list.run_first_ = std::move(run_first_);
  list.run_day_ = std::move(run_day_);
  *this = Builder();
  return list;
}

}  // namespace finfuse::data
