// Batches of a dataset in the order a sampler gives, collated ahead of use by a background thread so that training
// does not wait on data.
#pragma once

#include "finfuse/data/batch.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/sampler.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace finfuse::data {

class DataLoader {
 public:
  /// `prefetch`: batches collated ahead (0 collates on demand, in the caller's thread).
  DataLoader(std::shared_ptr<const MultimodalDataset> dataset, std::shared_ptr<const BatchSampler> sampler,
             std::int64_t prefetch = 2);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// Begins epoch `epoch` (abandoning the rest of the previous one), starting at batch `first_batch` (for resuming
  /// in the middle of an epoch).
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  /// The next batch of the current epoch, or nothing at its end. Rethrows an error raised while collating.
  std::optional<Batch> next();
  /// Number of batches in the current epoch.
  std::int64_t batches_in_epoch() const { return static_cast<std::int64_t>(plan_.size()); }
  /// Index of the next batch next() returns.
  std::int64_t position() const { return position_; }

 private:
  void stop_worker();
  void work(std::size_t begin);

  std::shared_ptr<const MultimodalDataset> dataset_;
  std::shared_ptr<const BatchSampler> sampler_;
  std::size_t prefetch_;
  std::vector<std::vector<std::size_t>> plan_;
  std::int64_t position_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> ready_;
  bool stop_ = false;
  bool finished_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace finfuse::data
