#include "intra_op_threads.h"

#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>

namespace finfuse {

int intra_op_threads() {
  // at::get_num_threads() first gives a thread that never ran a kernel LibTorch's default, so that a later lazy
  // initialisation cannot overwrite the count set here.
  return at::get_num_threads();
}

ScopedIntraOpThreads::ScopedIntraOpThreads(int threads) : previous_(intra_op_threads()) {
  // omp_set_num_threads() outside a parallel region changes this thread's setting only; at::set_num_threads() would
  // also change the default of threads started later.
  omp_set_num_threads(std::max(1, threads));
}

ScopedIntraOpThreads::~ScopedIntraOpThreads() { omp_set_num_threads(previous_); }

}  // namespace finfuse
