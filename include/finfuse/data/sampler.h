// Batch samplers: which samples form each batch of an epoch. Sequential, shuffled (reseeded per epoch),
// cross-sectional (one batch = every entity on one date, as graph fusion and ranking losses need) and
// class-balanced; any of them can be sharded for distributed training so every rank gets the same number of
// disjoint batches.
#pragma once

#include "finfuse/data/samples.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::data {

class BatchSampler {
 public:
  virtual ~BatchSampler() = default;
  /// The batches of epoch `epoch` (0-based); deterministic for a given epoch.
  virtual std::vector<std::vector<std::size_t>> batches(std::int64_t epoch) const = 0;
};

/// Batches of consecutive indices in the given order.
class SequentialSampler : public BatchSampler {
 public:
  SequentialSampler(std::vector<std::size_t> indices, std::int64_t batch_size);
  std::vector<std::vector<std::size_t>> batches(std::int64_t epoch) const override;

 private:
  std::vector<std::size_t> indices_;
  std::int64_t batch_size_;
};

/// A fresh permutation each epoch, derived from (seed, epoch).
class ShuffledSampler : public BatchSampler {
 public:
  ShuffledSampler(std::vector<std::size_t> indices, std::int64_t batch_size, std::uint64_t seed, bool drop_last = false);
  std::vector<std::vector<std::size_t>> batches(std::int64_t epoch) const override;

 private:
  std::vector<std::size_t> indices_;
  std::int64_t batch_size_;
  std::uint64_t seed_;
  bool drop_last_;
};

/// One batch per decision day holding every listed sample of that day; days in time order, or shuffled per epoch.
class CrossSectionalSampler : public BatchSampler {
 public:
  CrossSectionalSampler(const SampleList& samples, const std::vector<std::size_t>& indices, bool shuffle_days,
                        std::uint64_t seed, std::int64_t min_batch = 2);
  std::vector<std::vector<std::size_t>> batches(std::int64_t epoch) const override;

 private:
  std::vector<std::vector<std::size_t>> days_;
  bool shuffle_;
  std::uint64_t seed_;
};

/// Draws, with replacement, batches in which every class is equally likely: as many samples per epoch as indices.
class ClassBalancedSampler : public BatchSampler {
 public:
  ClassBalancedSampler(const SampleList& samples, const std::vector<std::size_t>& indices,
                       std::int64_t batch_size, std::uint64_t seed);
  std::vector<std::vector<std::size_t>> batches(std::int64_t epoch) const override;

 private:
  std::vector<std::vector<std::size_t>> by_class_;
  std::size_t count_;
  std::int64_t batch_size_;
  std::uint64_t seed_;
};

/// Rank `rank` of `world_size`'s share of another sampler's batches: every rank sees the same epoch order and takes
/// batches rank, rank + world_size, ...; the last batches are repeated so all ranks get the same count.
class DistributedSampler : public BatchSampler {
 public:
  DistributedSampler(std::shared_ptr<const BatchSampler> inner, std::int64_t rank, std::int64_t world_size);
  std::vector<std::vector<std::size_t>> batches(std::int64_t epoch) const override;

 private:
  std::shared_ptr<const BatchSampler> inner_;
  std::int64_t rank_;
  std::int64_t world_size_;
};

}  // namespace finfuse::data
