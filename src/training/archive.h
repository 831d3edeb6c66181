// Writing LibTorch archives sealed (size and SHA-256 in a header), as checkpoints, best.pt and pre-trained weights
// are: the readers verify the seal before LibTorch's reader sees the bytes.
#pragma once

#include <torch/serialize/output-archive.h>

#include <filesystem>

namespace finfuse::training {

/// Serialises `archive` and writes it to `path` atomically, sealed.
void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& path);

}  // namespace finfuse::training
