// The intra-op thread count of the calling thread, changed for a scope. LibTorch's CPU kernels split their work over
// OpenMP threads whose number is a per-thread setting: work running concurrently on several threads (the encoders of
// a model run side by side) divides the cores among them instead of each asking for all of them.
#pragma once

namespace finfuse {

/// Intra-op threads the calling thread's LibTorch kernels use.
int intra_op_threads();

/// Sets the calling thread's intra-op thread count for its lifetime and restores the previous count afterwards.
/// Unlike at::set_num_threads() it leaves the process-wide default and every other thread alone.
class ScopedIntraOpThreads {
 public:
  explicit ScopedIntraOpThreads(int threads);
  ~ScopedIntraOpThreads();
  ScopedIntraOpThreads(const ScopedIntraOpThreads&) = delete;
  ScopedIntraOpThreads& operator=(const ScopedIntraOpThreads&) = delete;

 private:
  int previous_;
};

}  // namespace finfuse
