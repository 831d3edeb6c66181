#include "finfuse/core/random.h"

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <cstdlib>

namespace finfuse {

void seed_everything(std::uint64_t seed) {
  torch::manual_seed(seed);
  // torch::manual_seed already seeds CUDA generators when CUDA is initialised; this also covers devices
  // that initialise later.
  torch::cuda::manual_seed_all(seed);
  std::srand(static_cast<unsigned>(derive_seed(seed, 0x5eed) & 0xffffffffu));
}

void set_deterministic(bool enabled) {
  at::globalContext().setDeterministicAlgorithms(enabled, /*warn_only=*/false);
  at::globalContext().setDeterministicCuDNN(enabled);
  at::globalContext().setBenchmarkCuDNN(!enabled && at::globalContext().benchmarkCuDNN());
}

bool deterministic() { return at::globalContext().deterministicAlgorithms(); }

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::mt19937_64 make_rng(std::uint64_t seed, std::uint64_t stream) {
  return std::mt19937_64(derive_seed(seed, stream));
}

}  // namespace finfuse
