#include "finfuse/data/loader.h"

#include "finfuse/core/check.h"

namespace finfuse::data {

DataLoader::DataLoader(std::shared_ptr<const MultimodalDataset> dataset, std::shared_ptr<const BatchSampler> sampler,
                       std::int64_t prefetch)
    : dataset_(std::move(dataset)), sampler_(std::move(sampler)), prefetch_(static_cast<std::size_t>(prefetch)) {
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

void DataLoader::work(std::size_t begin) {
  try {
    for (std::size_t k = begin; k < plan_.size(); ++k) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || ready_.size() < prefetch_; });
        if (stop_) {
          return;
        }
      }
      Batch batch = dataset_->collate(plan_[k]);
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
    return dataset_->collate(plan_[static_cast<std::size_t>(position_++)]);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !ready_.empty() || error_ || finished_; });
  if (ready_.empty()) {
    if (error_) {
      std::rethrow_exception(error_);
    }
    return std::nullopt;
  }
  Batch batch = std::move(ready_.front());
  ready_.pop_front();
  ++position_;
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace finfuse::data
