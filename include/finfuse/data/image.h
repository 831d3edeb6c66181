// 8-bit images for the image modality: decoded from PNG/JPEG/BMP files (stb_image), resized, and written as PNG.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace finfuse::data {

struct Image {
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::int64_t channels = 0;
  /// Row-major height x width x channels.
  std::vector<std::uint8_t> pixels;

  std::uint8_t at(std::int64_t row, std::int64_t column, std::int64_t channel = 0) const {
    return pixels[static_cast<std::size_t>((row * width + column) * channels + channel)];
  }
  /// Channel-first floats in [0, 1] (row-major channels x height x width), as image encoders take them.
  std::vector<float> to_chw_floats() const;
};

/// Decodes an image file. `channels` 1 (grey) or 3 (RGB) converts whatever the file holds; 0 keeps its own.
/// IoError for a missing file, DataError naming the file and the decoder's reason for a corrupt one.
Image load_image(const std::filesystem::path& path, int channels = 0);

/// Bilinear-filtered resize (stb_image_resize).
Image resize_image(const Image& image, std::int64_t height, std::int64_t width);

/// Writes a PNG, atomically (a temporary file renamed into place). IoError when it cannot be written.
void save_png(const Image& image, const std::filesystem::path& path);

}  // namespace finfuse::data
