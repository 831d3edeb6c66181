// Per-sample images as bytes: the storage the image-like modalities share.
#include "finfuse/data/modalities/pixel_samples.h"

#include "finfuse/core/check.h"
#include "finfuse/data/modality.h"

namespace finfuse::data {

void PixelSamples::reset(std::size_t samples, std::int64_t channels, std::int64_t height, std::int64_t width) {
  FINFUSE_CHECK(channels > 0 && height > 0 && width > 0, "images need a positive shape, got [", channels, ", ", height,
                ", ", width, "]");
  channels_ = channels;
  height_ = height;
  width_ = width;
  pixels_.assign(samples * values_per_sample(), 0);
  present_.assign(samples, 0);
}

double PixelSamples::coverage() const { return fraction_present(present_); }

ModalityBatch PixelSamples::collate(const std::vector<std::size_t>& indices) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  return ModalityBatch{gather_pixels(pixels_.data(), channels_ * height_ * width_, indices,
                                     {b, channels_, height_, width_}),
                       torch::Tensor(), gather_presence(&present_, indices)};
}

void PixelSamples::save(BinaryWriter& out) const {
  out.pod(channels_);
  out.pod(height_);
  out.pod(width_);
  out.vec(pixels_);
  out.vec(present_);
}

void PixelSamples::load(BinaryReader& in, std::size_t samples, const std::string& what) {
  channels_ = in.pod<std::int64_t>();
  height_ = in.pod<std::int64_t>();
  width_ = in.pod<std::int64_t>();
  if (channels_ <= 0 || height_ <= 0 || width_ <= 0 || channels_ * height_ > (std::int64_t{1} << 40) / width_) {
    in.inconsistent(what);
  }
  pixels_ = in.vec<std::uint8_t>();
  present_ = in.vec<std::uint8_t>();
  if (pixels_.size() != samples * values_per_sample() || present_.size() != samples) {
    in.inconsistent(what);
  }
}

}  // namespace finfuse::data
