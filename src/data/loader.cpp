#include "finfuse/data/loader.h"

#include "finfuse/core/check.h"
#include "../core/intra_op_threads.h"

#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

namespace finfuse::data {

DataLoader::DataLoader(std::shared_ptr<const MultimodalDataset> dataset, std::shared_ptr<const BatchSampler> sampler,
                       std::int64_t prefetch, c10::Device device)
    : dataset_(std::move(dataset)),
      sampler_(std::move(sampler)),
      prefetch_(static_cast<std::size_t>(prefetch)),
      device_(device) {
  FINFUSE_CHECK(dataset_ != nullptr && sampler_ != nullptr, "DataLoader needs a dataset and a sampler");
  FINFUSE_CHECK(prefetch >= 0, "prefetch must be >= 0, got ", prefetch);
}

DataLoader::~DataLoader() { stop_worker(); }

void DataLoader::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) {
    worker_.join();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ready_.clear();
  stop_ = false;
  finished_ = false;
  error_ = nullptr;
}

void DataLoader::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  stop_worker();
  plan_ = sampler_->batches(epoch);
  FINFUSE_CHECK(first_batch >= 0 && first_batch <= static_cast<std::int64_t>(plan_.size()), "DataLoader: cannot start ",
                "epoch ", epoch, " at batch ", first_batch, " of ", plan_.size());
  position_ = first_batch;
  if (prefetch_ > 0) {
    worker_ = std::thread([this, first_batch] { work(static_cast<std::size_t>(first_batch)); });
  }
}

DataLoader::Ready DataLoader::prepare(std::size_t k) const {
  Batch batch = dataset_->collate(plan_[k]);
  if (!device_.is_cuda()) {
    return Ready{std::move(batch), std::nullopt};
  }
  // Page-locked memory, then an asynchronous copy on a stream of the loader's own (the caller's stream goes on with
  // the model meanwhile), ended by an event.
  const c10::impl::VirtualGuardImpl cuda(device_.type());
  const c10::Stream stream = cuda.getStreamFromGlobalPool(device_);
  const c10::StreamGuard on_stream(stream);
  Batch moved = batch.pinned().to(device_);
  c10::Event copied(device_.type());
  copied.record(stream);
  return Ready{std::move(moved), std::move(copied)};
}

Batch DataLoader::receive(Ready ready) const {
  if (ready.copied) {
    const c10::impl::VirtualGuardImpl cuda(device_.type());
    const c10::Stream current = cuda.getStream(device_);
    ready.copied->block(current);
    // The memory was allocated on the loader's stream: the allocator must not reuse it before the caller's stream is
    // done with it.
    ready.batch.for_each_tensor([&](const torch::Tensor& t) { t.record_stream(current); });
  }
  return std::move(ready.batch);
}

void DataLoader::work(std::size_t begin) {
  // Collation overlaps with the model's steps on the caller's thread: a team of intra-op threads of its own would
  // compete with the model's for the same cores.
  const ScopedIntraOpThreads one_thread(1);
  try {
    for (std::size_t k = begin; k < plan_.size(); ++k) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || ready_.size() < prefetch_; });
        if (stop_) {
          return;
        }
      }
      Ready batch = prepare(k);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(std::move(batch));
      }
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
  }
  changed_.notify_all();
}

std::optional<Batch> DataLoader::next() {
  if (position_ >= static_cast<std::int64_t>(plan_.size())) {
    return std::nullopt;
  }
  if (prefetch_ == 0) {
    return receive(prepare(static_cast<std::size_t>(position_++)));
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !ready_.empty() || error_ || finished_; });
  if (ready_.empty()) {
    if (error_) {
      std::rethrow_exception(error_);
    }
    return std::nullopt;
  }
  Ready batch = std::move(ready_.front());
  ready_.pop_front();
  ++position_;
  lock.unlock();
  changed_.notify_all();
  return receive(std::move(batch));
}

}  // namespace finfuse::data
