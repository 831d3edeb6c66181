// Reproducibility: one seed drives LibTorch's generators (CPU and CUDA) and every random stream finfuse uses
// for data (shuffling, sampling, augmentation); deterministic mode trades speed for bit-identical reruns.
#pragma once

#include <cstdint>
#include <random>

namespace finfuse {

/// Seeds LibTorch's default CPU generator, every CUDA generator, and the C library's rand().
/// Data-side randomness takes its streams from make_rng(seed, stream) instead of global state.
void seed_everything(std::uint64_t seed);

/// Enables or disables deterministic algorithms in LibTorch (operations without a deterministic
/// implementation then throw) and fixes cuDNN's algorithm choice.
void set_deterministic(bool enabled);

/// Whether LibTorch's deterministic mode is on.
bool deterministic();

/// A well-mixed 64-bit seed for the independent stream `stream` of `seed` (SplitMix64 finaliser), so that
/// streams for, e.g., shuffling (stream 1) and augmentation (stream 2) are uncorrelated.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

/// A random engine for one stream of a seed, independent of any global state.
std::mt19937_64 make_rng(std::uint64_t seed, std::uint64_t stream = 0);

}  // namespace finfuse
