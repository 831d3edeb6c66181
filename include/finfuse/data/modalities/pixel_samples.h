// Per-sample images kept as bytes, [N, C, H, W], with a flag per sample for whether it has one: the storage of the
// image-like modalities (chart, image, a user's own), which collate them as floats in [0, 1] and save and load them.
#pragma once

#include "finfuse/data/batch.h"
#include "finfuse/data/binary_io.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::data {

class PixelSamples {
 public:
  /// `samples` blank images of [channels, height, width], every one absent.
  void reset(std::size_t samples, std::int64_t channels, std::int64_t height, std::int64_t width);

  /// Sample i's channels * height * width bytes, channel-first, to fill in after reset(); then set_present(i).
  std::uint8_t* sample(std::size_t i);
  void set_present(std::size_t i);

  /// [C, H, W].
  std::vector<std::int64_t> shape() const { return {channels_, height_, width_}; }
  std::size_t size() const { return present_.size(); }
  /// The fraction of samples that have an image.
  double coverage() const;

  /// The images at `indices` as floats in [0, 1], [B, C, H, W], with their presence.
  ModalityBatch collate(const std::vector<std::size_t>& indices) const;

  /// The shape, the pixels and the flags.
  void save(BinaryWriter& out) const;
  /// Reads what save() wrote for `samples` samples (in place when `in` reads a mapped file; such images cannot be
  /// filled in); BinaryReader::inconsistent(what) when the sizes disagree.
  void load(BinaryReader& in, std::size_t samples, const std::string& what);

 private:
  std::size_t values_per_sample() const { return static_cast<std::size_t>(channels_ * height_ * width_); }

  std::int64_t channels_ = 0;
  std::int64_t height_ = 0;
  std::int64_t width_ = 0;
  // Read through these; after reset() they view the vectors below, which build() fills in.
  SharedArray<std::uint8_t> pixels_;
  SharedArray<std::uint8_t> present_;
  std::shared_ptr<std::vector<std::uint8_t>> filling_pixels_;
  std::shared_ptr<std::vector<std::uint8_t>> filling_present_;
};

}  // namespace finfuse::data
