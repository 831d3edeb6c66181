// Batches of a dataset in the order a sampler gives, collated ahead of use by a background thread so that training
// does not wait on data. For a CUDA device the thread also puts each batch in page-locked memory and starts its copy to
// the GPU on a stream of its own, so the transfer overlaps the model's work on the previous batch; next() makes the
// caller's stream wait for that copy (an event), never the CPU.
#pragma once

#include "finfuse/data/batch.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/sampler.h"

#include <c10/core/Device.h>
#include <c10/core/Event.h>

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
  /// `prefetch`: batches collated ahead (0 collates on demand, in the caller's thread). `device`: where next()'s
  /// batches are (the CPU, or a GPU they are copied to ahead of use).
  DataLoader(std::shared_ptr<const MultimodalDataset> dataset, std::shared_ptr<const BatchSampler> sampler,
             std::int64_t prefetch = 2, c10::Device device = c10::Device(c10::DeviceType::CPU));
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// Begins epoch `epoch` (abandoning the rest of the previous one), starting at batch `first_batch` (for resuming
  /// in the middle of an epoch).
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  /// The next batch of the current epoch (on the loader's device), or nothing at its end. Rethrows an error raised
  /// while collating.
  std::optional<Batch> next();
  /// Number of batches in the current epoch.
  std::int64_t batches_in_epoch() const { return static_cast<std::int64_t>(plan_.size()); }
  /// Index of the next batch next() returns.
  std::int64_t position() const { return position_; }

 private:
  /// A collated batch on its way to the device: the event marks the end of its copy.
  struct Ready {
    Batch batch;
    std::optional<c10::Event> copied;
  };
  void stop_worker();
  void work(std::size_t begin);
  /// Collates batch `k` of the plan and, for a GPU, starts its copy there.
  Ready prepare(std::size_t k) const;
  /// Makes the caller's stream wait for the copy and hands the memory over to it.
  Batch receive(Ready ready) const;

  std::shared_ptr<const MultimodalDataset> dataset_;
  std::shared_ptr<const BatchSampler> sampler_;
  std::size_t prefetch_;
  c10::Device device_;
  std::vector<std::vector<std::size_t>> plan_;
  std::int64_t position_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Ready> ready_;
  bool stop_ = false;
  bool finished_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace finfuse::data
