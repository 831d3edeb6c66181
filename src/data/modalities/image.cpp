// The image modality: files named in a table's path column, decoded, resized and laid out channel-first.
#include "finfuse/data/modalities/image.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"
#include "finfuse/data/image.h"

#include <algorithm>

namespace finfuse::data {

ImageModality::ImageModality(const DatasetOptions& options)
    : PixelModality("image", {options.image.channels, options.image.height, options.image.width}, "images"),
      options_(options.image) {}

void ImageModality::build(const ModalityContext& context) {
  const NumericTable& table = context.table(options_.table, "image");
  const auto& columns = table.path_columns();
  const auto found = std::find(columns.begin(), columns.end(), options_.column);
  FINFUSE_CHECK(found != columns.end(), "column '", options_.column, "' of table '", options_.table,
                "' is not one of its path_columns");
  const auto column = static_cast<std::size_t>(found - columns.begin());
  const auto c = options_.channels;
  const auto h = options_.height;
  const auto w = options_.width;
  const auto n = context.size();
  PixelSamples& images = reset_images(n);
  std::int64_t unusable = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = context.joined_row(table, i);
    if (!row || table.path(*row, column).empty()) {
      continue;
    }
    try {
      Image image;
      try {
        image = load_image(table.path(*row, column), static_cast<int>(c));
      } catch (const Error& e) {
        throw DataError(table.source(), table.line(*row), options_.column, e.what());
      }
      if (image.height != h || image.width != w) {
        image = resize_image(image, h, w);
      }
      // Channel-first, as image encoders take it.
      std::uint8_t* dst = images.sample(i);
      for (std::int64_t ch = 0; ch < c; ++ch) {
        for (std::int64_t y = 0; y < h; ++y) {
          for (std::int64_t x = 0; x < w; ++x) {
            dst[(ch * h + y) * w + x] = image.at(y, x, ch);
          }
        }
      }
      images.set_present(i);
    } catch (const DataError&) {
      if (options_.on_missing == "error") {
        throw;
      }
      ++unusable;
    }
  }
  if (unusable > 0) {
    logger()->warn("{} referenced image(s) could not be read; those samples lack the image modality", unusable);
  }
}

}  // namespace finfuse::data
