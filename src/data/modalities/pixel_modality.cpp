// What the image-like modalities share: collating, describing, saving and loading their images.
#include "finfuse/data/modalities/pixel_modality.h"

#include "finfuse/core/check.h"

#include <utility>

namespace finfuse::data {

PixelModality::PixelModality(std::string name, std::vector<std::int64_t> shape, std::string what)
    : Modality(std::move(name)), shape_(std::move(shape)), what_(std::move(what)) {
  FINFUSE_CHECK(shape_.size() == 3, "modality '", this->name(), "': images are [channels, height, width]");
  images_.reset(0, shape_[0], shape_[1], shape_[2]);
}

PixelSamples& PixelModality::reset_images(std::size_t samples) {
  images_.reset(samples, shape_[0], shape_[1], shape_[2]);
  return images_;
}

void PixelModality::collate(const std::vector<std::size_t>& indices, Batch& batch) const {
  batch.modalities[name()] = images_.collate(indices);
}

void PixelModality::save(BinaryWriter& out) const { images_.save(out); }

void PixelModality::load(BinaryReader& in, const SampleList& list) {
  const std::size_t samples = list.size();
  images_.load(in, samples, what_);
  if (images_.shape() != shape_) {
    in.inconsistent(what_ + " of another shape than the " + name() + " options give");
  }
}

}  // namespace finfuse::data
