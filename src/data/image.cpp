#include "finfuse/data/image.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"

#include <fmt/format.h>

// stb's implementations are compiled here, with internal linkage so they never clash with another copy in the
// application.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <fstream>
#include <memory>

namespace finfuse::data {

std::vector<float> Image::to_chw_floats() const {
  std::vector<float> out(pixels.size());
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t r = 0; r < height; ++r) {
      for (std::int64_t x = 0; x < width; ++x) {
        out[static_cast<std::size_t>((c * height + r) * width + x)] = static_cast<float>(at(r, x, c)) / 255.0f;
      }
    }
  }
  return out;
}

Image load_image(const std::filesystem::path& path, int channels) {
  FINFUSE_CHECK(channels == 0 || channels == 1 || channels == 3, "load_image: channels must be 0, 1 or 3, got ",
                channels);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(path.string(), "no such image file");
  }
  int width = 0;
  int height = 0;
  int in_file = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load(path.c_str(), &width, &height, &in_file, channels),
                                                  stbi_image_free);
  if (!data) {
    throw DataError(path.string(), 0, "", fmt::format("cannot decode the image: {}", stbi_failure_reason()));
  }
  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels == 0 ? in_file : channels;
  image.pixels.assign(data.get(), data.get() + static_cast<std::size_t>(image.height * image.width * image.channels));
  return image;
}

Image resize_image(const Image& image, std::int64_t height, std::int64_t width) {
  FINFUSE_CHECK(height > 0 && width > 0, "resize_image: the size must be positive, got ", height, "x", width);
  Image out;
  out.height = height;
  out.width = width;
  out.channels = image.channels;
  out.pixels.resize(static_cast<std::size_t>(height * width * image.channels));
  const int ok = stbir_resize_uint8(image.pixels.data(), static_cast<int>(image.width), static_cast<int>(image.height),
                                    0, out.pixels.data(), static_cast<int>(width), static_cast<int>(height), 0,
                                    static_cast<int>(image.channels));
  FINFUSE_CHECK(ok == 1, "resize_image failed");
  return out;
}

void save_png(const Image& image, const std::filesystem::path& path) {
  FINFUSE_CHECK(image.pixels.size() == static_cast<std::size_t>(image.height * image.width * image.channels) &&
                    image.height > 0,
                "save_png: the image is empty or inconsistent");
  const std::filesystem::path tmp = path.string() + ".tmp";
  const int ok = stbi_write_png(tmp.c_str(), static_cast<int>(image.width), static_cast<int>(image.height),
                                static_cast<int>(image.channels), image.pixels.data(),
                                static_cast<int>(image.width * image.channels));
  if (ok == 0) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw IoError(path.string(), "cannot write the PNG file");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    throw IoError(path.string(), "cannot move the PNG into place: " + ec.message());
  }
}

}  // namespace finfuse::data
