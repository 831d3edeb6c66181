// Leak-free splits of samples: chronological by date boundaries, walk-forward folds (expanding or sliding training
// window), purged K-fold with an embargo, and random or stratified splits for data without time.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/sample_indices.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::data {

/// Rising indices into a sample list; a part of a chronological split of day-ordered samples is a run or a few.
struct Split {
  SampleIndices train;
  SampleIndices valid;
  SampleIndices test;
};

/// train: day < valid_start; valid: valid_start <= day < test_start; test: test_start <= day (< test_end when
/// given). Throws finfuse::Error unless valid_start <= test_start (< test_end).
Split chronological_split(const SampleList& samples, Date valid_start, Date test_start,
                          std::optional<Date> test_end = std::nullopt);

struct WalkForwardOptions {
#define FINFUSE_WALK_FORWARD_FIELDS(F)                                                                            \
  F(std::string, window, "expanding", ::finfuse::FieldRule::one_of({"expanding", "sliding"}),                     \
    "expanding: training starts at the first day; sliding: training covers the last train_days")                \
  F(std::int64_t, train_days, 500, ::finfuse::Range::positive(), "training length in distinct decision days")     \
  F(std::int64_t, valid_days, 60, ::finfuse::Range::non_negative(), "validation length in decision days")         \
  F(std::int64_t, test_days, 60, ::finfuse::Range::positive(), "test length in decision days")                    \
  F(std::int64_t, step_days, 0, ::finfuse::Range::non_negative(), "days the test window moves per fold (0: test_days)") \
  F(std::int64_t, embargo_days, 0, ::finfuse::Range::non_negative(),                                              \
    "days left out between blocks, beyond the purge of samples whose label interval reaches the next block")
  FINFUSE_FIELDS(WalkForwardOptions, FINFUSE_WALK_FORWARD_FIELDS)
#undef FINFUSE_WALK_FORWARD_FIELDS
};


/// Walk-forward folds over the samples' distinct decision days, in time order. Samples in one block whose label
/// is observed at or after the next block's first decision are purged.
std::vector<Split> walk_forward(const SampleList& samples, const WalkForwardOptions& options);

/// Purged K-fold cross-validation (López de Prado): the distinct decision days are cut into k contiguous test
/// blocks; training samples whose [time, label_time] interval overlaps the test block's span are purged, and those
/// that start within `embargo_seconds` after the span are embargoed. `valid` stays empty.
std::vector<Split> purged_kfold(const SampleList& samples, std::int64_t k, std::int64_t embargo_seconds);

/// A shuffled split of n items by fractions (valid, test); the rest trains.
Split random_split(std::size_t n, double valid_fraction, double test_fraction, std::uint64_t seed);

/// As random_split, with each class's proportions kept in every part. `labels` are class indices.
Split stratified_split(const std::vector<std::int64_t>& labels, double valid_fraction, double test_fraction,
                       std::uint64_t seed);

/// Random and stratified splits of a sample set (stratified by the targets, which must be class indices). Splitting
/// samples that carry decision times at random mixes past and future: a warning says so.
Split random_split(const SampleSet& set, double valid_fraction, double test_fraction, std::uint64_t seed);
Split stratified_split(const SampleSet& set, double valid_fraction, double test_fraction, std::uint64_t seed);

}  // namespace finfuse::data
