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
  filling_pixels_ = std::make_shared<std::vector<std::uint8_t>>(samples * values_per_sample(), 0);
  filling_present_ = std::make_shared<std::vector<std::uint8_t>>(samples, 0);
  // The vectors keep their size from here on, so the views stay valid while build() writes through sample().
  pixels_ = SharedArray<std::uint8_t>::view(filling_pixels_->data(), filling_pixels_->size(), filling_pixels_);
  present_ = SharedArray<std::uint8_t>::view(filling_present_->data(), filling_present_->size(), filling_present_);
}

std::uint8_t* PixelSamples::sample(std::size_t i) {
  FINFUSE_CHECK(filling_pixels_ != nullptr && i < filling_present_->size(), "PixelSamples::sample(", i,
                "): not an image of the ", present_.size(), " being built");
  return filling_pixels_->data() + i * values_per_sample();
}

void PixelSamples::set_present(std::size_t i) {
  FINFUSE_CHECK(filling_present_ != nullptr && i < filling_present_->size(), "PixelSamples::set_present(", i,
                "): not an image of the ", present_.size(), " being built");
  (*filling_present_)[i] = 1;
}

double PixelSamples::coverage() const { return fraction_present(present_); }

ModalityBatch PixelSamples::collate(const std::vector<std::size_t>& indices) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  return ModalityBatch{gather_pixels(pixels_.data(), channels_ * height_ * width_, indices,
                                     {b, channels_, height_, width_}),
                       torch::Tensor(), gather_presence(present_, indices)};
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
  pixels_ = in.array<std::uint8_t>();
  present_ = in.array<std::uint8_t>();
  filling_pixels_.reset();
  filling_present_.reset();
  if (pixels_.size() != samples * values_per_sample() || present_.size() != samples) {
    in.inconsistent(what);
  }
}

}  // namespace finfuse::data
