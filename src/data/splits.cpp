#include "finfuse/data/splits.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <numeric>

namespace finfuse::data {
namespace {

void check_fractions(double valid_fraction, double test_fraction) {
  FINFUSE_CHECK(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction < 1.0,
                "split fractions must be >= 0 and leave something to train on, got valid ", valid_fraction,
                " and test ", test_fraction);
}

}  // namespace

Split chronological_split(const SampleList& samples, Date valid_start, Date test_start,
                          std::optional<Date> test_end) {
  FINFUSE_CHECK(valid_start <= test_start, "chronological split: the validation start ", valid_start.to_string(),
                " is after the test start ", test_start.to_string());
  FINFUSE_CHECK(!test_end || test_start < *test_end, "chronological split: the test end ",
                test_end ? test_end->to_string() : std::string(), " is not after the test start ",
                test_start.to_string());
  // Samples in day order make each part one run of indices.
  Split split;
  const std::array<SampleIndices*, 3> parts = {&split.train, &split.valid, &split.test};
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Date day = samples.day(i);
    const std::size_t p = day < valid_start ? 0 : day < test_start ? 1 : (!test_end || day < *test_end) ? 2 : 3;
    if (p < parts.size()) {
      parts[p]->push_back(i);
    }
  }
  return split;
}

std::vector<Split> walk_forward(const SampleList& samples, const WalkForwardOptions& options) {
  FINFUSE_CHECK(options.train_days > 0 && options.test_days > 0 && options.valid_days >= 0 && options.embargo_days >= 0,
                "walk-forward: invalid lengths");
  const auto days = samples.days();
  const auto day_count = static_cast<std::int64_t>(days.size());
  const std::int64_t step = options.step_days > 0 ? options.step_days : options.test_days;
  const std::int64_t gap = options.embargo_days;

  // The index of a sample's decision day among `days`, searched for only where the day changes.
  auto day_index = [&days, last_day = Date(), last_index = std::int64_t{-1}](Date day) mutable {
    if (last_index < 0 || day != last_day) {
      last_day = day;
      last_index = std::lower_bound(days.begin(), days.end(), day) - days.begin();
    }
    return last_index;
  };
  std::vector<Split> folds;
  // Layout per fold: [train][gap][valid][gap][test]
  for (std::int64_t train_end = options.train_days;; train_end += step) {
    const std::int64_t valid_begin = train_end + (options.valid_days > 0 ? gap : 0);
    const std::int64_t valid_end = valid_begin + options.valid_days;
    const std::int64_t test_begin = valid_end + gap;
    const std::int64_t test_end = test_begin + options.test_days;
    if (test_end > day_count) {
      break;
    }
    const std::int64_t train_begin = options.window == "sliding" ? train_end - options.train_days : 0;
    const Timestamp valid_first = options.valid_days > 0 ? Timestamp::at(days[static_cast<std::size_t>(valid_begin)])
                                                         : Timestamp::at(days[static_cast<std::size_t>(test_begin)]);
    const Timestamp test_first = Timestamp::at(days[static_cast<std::size_t>(test_begin)]);
    Split fold;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const std::int64_t d = day_index(samples.day(i));
      // Purge: a sample whose label is observed on or after the next block's first day would leak into it.
      if (d >= train_begin && d < train_end) {
        if (samples[i].label_time() < valid_first) {
          fold.train.push_back(i);
        }
      } else if (d >= valid_begin && d < valid_end) {
        if (samples[i].label_time() < test_first) {
          fold.valid.push_back(i);
        }
      } else if (d >= test_begin && d < test_end) {
        fold.test.push_back(i);
      }
    }
    folds.push_back(std::move(fold));
  }
  FINFUSE_CHECK(!folds.empty(), "walk-forward: ", day_count, " decision days are too few for one fold of ",
                options.train_days, " train + ", options.valid_days, " valid + ", options.test_days, " test days");
  return folds;
}

std::vector<Split> purged_kfold(const SampleList& samples, std::int64_t k, std::int64_t embargo_seconds) {
  const auto days = samples.days();
  FINFUSE_CHECK(k >= 2, "purged K-fold needs k >= 2, got ", k);
  FINFUSE_CHECK(static_cast<std::int64_t>(days.size()) >= k, "purged K-fold: ", days.size(),
                " decision days cannot make ", k, " folds");
  FINFUSE_CHECK(embargo_seconds >= 0, "purged K-fold: the embargo must be >= 0, got ", embargo_seconds);
  std::vector<Split> folds;
  const auto n_days = static_cast<std::int64_t>(days.size());
  for (std::int64_t f = 0; f < k; ++f) {
    const Date first = days[static_cast<std::size_t>(f * n_days / k)];
    const Date last = days[static_cast<std::size_t>((f + 1) * n_days / k - 1)];
    Split fold;
    Timestamp span_begin(std::numeric_limits<std::int64_t>::max());
    Timestamp span_end(std::numeric_limits<std::int64_t>::min());
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const Sample s = samples[i];
      if (s.day >= first && s.day <= last) {
        fold.test.push_back(i);
        span_begin = std::min(span_begin, s.time());
        span_end = std::max(span_end, s.label_time());
      }
    }
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const Sample s = samples[i];
      if (s.day >= first && s.day <= last) {
        continue;
      }
      const bool overlaps = s.time() <= span_end && s.label_time() >= span_begin;
      const bool embargoed = s.time() > span_end && s.time() <= span_end + embargo_seconds;
      if (!overlaps && !embargoed) {
        fold.train.push_back(i);
      }
    }
    folds.push_back(std::move(fold));
  }
  return folds;
}

Split random_split(std::size_t n, double valid_fraction, double test_fraction, std::uint64_t seed) {
  check_fractions(valid_fraction, test_fraction);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto rng = make_rng(seed, 0x5b117);
  std::shuffle(order.begin(), order.end(), rng);
  const auto n_test = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(n)));
  const auto n_valid = static_cast<std::size_t>(std::llround(valid_fraction * static_cast<double>(n)));
  const auto part = [&order](std::size_t from, std::size_t to) {
    std::vector<std::size_t> indices(order.begin() + static_cast<std::ptrdiff_t>(from),
                                     order.begin() + static_cast<std::ptrdiff_t>(to));
    std::sort(indices.begin(), indices.end());
    return SampleIndices(std::move(indices));
  };
  Split split;
  split.test = part(0, n_test);
  split.valid = part(n_test, n_test + n_valid);
  split.train = part(n_test + n_valid, n);
  return split;
}

Split stratified_split(const std::vector<std::int64_t>& labels, double valid_fraction, double test_fraction,
                       std::uint64_t seed) {
  check_fractions(valid_fraction, test_fraction);
  std::map<std::int64_t, std::vector<std::size_t>> by_class;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    by_class[labels[i]].push_back(i);
  }
  std::array<std::vector<std::size_t>, 3> parts;
  std::uint64_t stream = 0;
  for (auto& [label, members] : by_class) {
    const Split split = random_split(members.size(), valid_fraction, test_fraction, derive_seed(seed, stream++));
    std::size_t p = 0;
    for (const auto* part : {&split.train, &split.valid, &split.test}) {
      for (const std::size_t index : *part) {
        parts[p].push_back(members[index]);
      }
      ++p;
    }
  }
  for (auto& part : parts) {
    std::sort(part.begin(), part.end());
  }
  return Split{SampleIndices(std::move(parts[0])), SampleIndices(std::move(parts[1])),
               SampleIndices(std::move(parts[2]))};
}

namespace {

void warn_if_timed(const SampleSet& set, const char* kind) {
  if (set.timed) {
    logger()->warn("{} split of samples that carry decision times: training will see the future of its test "
                   "samples; use a chronological, walk-forward or purged K-fold split for time series",
                   kind);
  }
}

}  // namespace

Split random_split(const SampleSet& set, double valid_fraction, double test_fraction, std::uint64_t seed) {
  warn_if_timed(set, "random");
  return random_split(set.samples.size(), valid_fraction, test_fraction, seed);
}

Split stratified_split(const SampleSet& set, double valid_fraction, double test_fraction, std::uint64_t seed) {
  warn_if_timed(set, "stratified");
  std::vector<std::int64_t> labels;
  labels.reserve(set.samples.size());
  for (const auto& s : set.samples) {
    FINFUSE_CHECK(s.target >= 0 && s.target == static_cast<float>(static_cast<std::int64_t>(s.target)),
                  "a stratified split needs class labels, got target ", s.target);
    labels.push_back(static_cast<std::int64_t>(s.target));
  }
  return stratified_split(labels, valid_fraction, test_fraction, seed);
}

}  // namespace finfuse::data
