#include "finfuse/data/sampler.h"

#include "finfuse/core/check.h"
#include "finfuse/core/random.h"

#include <algorithm>
#include <map>

namespace finfuse::data {
namespace {

std::vector<std::vector<std::size_t>> chunk(const std::vector<std::size_t>& order, std::int64_t batch_size,
                                            bool drop_last) {
  std::vector<std::vector<std::size_t>> out;
  const auto size = static_cast<std::size_t>(batch_size);
  for (std::size_t begin = 0; begin < order.size(); begin += size) {
    const std::size_t end = std::min(order.size(), begin + size);
    if (drop_last && end - begin < size) {
      break;
    }
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(begin), order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

// Streams of the sampler seed: one per epoch, apart from other users of the same seed.
std::mt19937_64 epoch_rng(std::uint64_t seed, std::int64_t epoch) {
  return make_rng(derive_seed(seed, 0x5a3b1e), static_cast<std::uint64_t>(epoch));
}

}  // namespace

SequentialSampler::SequentialSampler(std::vector<std::size_t> indices, std::int64_t batch_size)
    : indices_(std::move(indices)), batch_size_(batch_size) {
  FINFUSE_CHECK(batch_size > 0, "batch size must be > 0, got ", batch_size);
}

std::vector<std::vector<std::size_t>> SequentialSampler::batches(std::int64_t /*epoch*/) const {
  return chunk(indices_, batch_size_, false);
}

ShuffledSampler::ShuffledSampler(std::vector<std::size_t> indices, std::int64_t batch_size, std::uint64_t seed,
                                 bool drop_last)
    : indices_(std::move(indices)), batch_size_(batch_size), seed_(seed), drop_last_(drop_last) {
  FINFUSE_CHECK(batch_size > 0, "batch size must be > 0, got ", batch_size);
}

std::vector<std::vector<std::size_t>> ShuffledSampler::batches(std::int64_t epoch) const {
  std::vector<std::size_t> order = indices_;
  auto rng = epoch_rng(seed_, epoch);
  std::shuffle(order.begin(), order.end(), rng);
  return chunk(order, batch_size_, drop_last_);
}

CrossSectionalSampler::CrossSectionalSampler(const SampleList& samples, const std::vector<std::size_t>& indices,
                                             bool shuffle_days, std::uint64_t seed, std::int64_t min_batch)
    : shuffle_(shuffle_days), seed_(seed) {
  std::map<Date, std::vector<std::size_t>> by_day;
  for (auto i : indices) {
    FINFUSE_CHECK(i < samples.size(), "CrossSectionalSampler: index ", i, " is outside the ", samples.size(), " samples");
    by_day[samples.day(i)].push_back(i);
  }
  for (auto& [day, members] : by_day) {
    if (static_cast<std::int64_t>(members.size()) >= min_batch) {
      days_.push_back(std::move(members));
    }
  }
}

std::vector<std::vector<std::size_t>> CrossSectionalSampler::batches(std::int64_t epoch) const {
  auto out = days_;
  if (shuffle_) {
    auto rng = epoch_rng(seed_, epoch);
    std::shuffle(out.begin(), out.end(), rng);
  }
  return out;
}

ClassBalancedSampler::ClassBalancedSampler(const SampleList& samples, const std::vector<std::size_t>& indices,
                                           std::int64_t batch_size, std::uint64_t seed)
    : count_(indices.size()), batch_size_(batch_size), seed_(seed) {
  FINFUSE_CHECK(batch_size > 0, "batch size must be > 0, got ", batch_size);
  std::map<std::int64_t, std::vector<std::size_t>> classes;
  for (auto i : indices) {
    FINFUSE_CHECK(i < samples.size(), "ClassBalancedSampler: index ", i, " is outside the ", samples.size(), " samples");
    const float target = samples.target(i);
    FINFUSE_CHECK(target >= 0 && target == static_cast<float>(static_cast<std::int64_t>(target)),
                  "ClassBalancedSampler needs class labels, got target ", target);
    classes[static_cast<std::int64_t>(target)].push_back(i);
  }
  FINFUSE_CHECK(!classes.empty(), "ClassBalancedSampler: no samples");
  for (auto& [label, members] : classes) {
    by_class_.push_back(std::move(members));
  }
}

std::vector<std::vector<std::size_t>> ClassBalancedSampler::batches(std::int64_t epoch) const {
  auto rng = epoch_rng(seed_, epoch);
  std::uniform_int_distribution<std::size_t> pick_class(0, by_class_.size() - 1);
  std::vector<std::size_t> order;
  order.reserve(count_);
  for (std::size_t k = 0; k < count_; ++k) {
    const auto& members = by_class_[pick_class(rng)];
    std::uniform_int_distribution<std::size_t> pick(0, members.size() - 1);
    order.push_back(members[pick(rng)]);
  }
  return chunk(order, batch_size_, false);
}

DistributedSampler::DistributedSampler(std::shared_ptr<const BatchSampler> inner, std::int64_t rank,
                                       std::int64_t world_size)
    : inner_(std::move(inner)), rank_(rank), world_size_(world_size) {
  FINFUSE_CHECK(inner_ != nullptr, "DistributedSampler needs a sampler to shard");
  FINFUSE_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "invalid rank ", rank, " of world size ", world_size);
}

std::vector<std::vector<std::size_t>> DistributedSampler::batches(std::int64_t epoch) const {
  const auto all = inner_->batches(epoch);
  std::vector<std::vector<std::size_t>> out;
  if (all.empty()) {
    return out;
  }
  const auto world = static_cast<std::size_t>(world_size_);
  const std::size_t per_rank = (all.size() + world - 1) / world;
  for (std::size_t k = 0; k < per_rank; ++k) {
    const std::size_t index = k * world + static_cast<std::size_t>(rank_);
    out.push_back(all[index < all.size() ? index : index % all.size()]);
  }
  return out;
}

}  // namespace finfuse::data
