#include "finfuse/data/chart_image.h"

#include "finfuse/core/error.h"
#include "support/shared_data.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace finfuse::data {
namespace {

// Five bars between 8 and 16; adjusted close = close.
PriceSeries five_bars() {
  PriceSeries s;
  s.symbol = "X";
  s.dates = {Date::from_ymd(2015, 1, 5), Date::from_ymd(2015, 1, 6), Date::from_ymd(2015, 1, 7),
             Date::from_ymd(2015, 1, 8), Date::from_ymd(2015, 1, 9)};
  s.open = {10, 11, 12, 13, 14};
  s.high = {12, 13, 14, 15, 16};
  s.low = {8, 9, 10, 11, 12};
  s.close = {11, 12, 13, 14, 15};
  s.adj_close = s.close;
  s.volume = {100, 200, 300, 400, 600};
  return s;
}

std::int64_t white_in_column(const Image& image, std::int64_t column, std::int64_t from_row, std::int64_t to_row) {
  std::int64_t count = 0;
  for (std::int64_t r = from_row; r < to_row; ++r) {
    count += image.at(r, column) == 255 ? 1 : 0;
  }
  return count;
}

TEST(ChartImage, PixelsOfAHandComputedChart) {
  ChartOptions options;
  options.days = 5;
  options.moving_average = false;
  const Image image = render_chart(five_bars(), 4, options);
  ASSERT_EQ(image.height, 32);
  ASSERT_EQ(image.width, 15);
  // Volume takes the bottom 6 rows, one row is a gap, prices use rows 0..24: row(p) = 24 - round((p - 8) / 8 * 24).
  const auto row = [](double p) { return 24 - static_cast<std::int64_t>(std::lround((p - 8.0) / 8.0 * 24.0)); };
  EXPECT_EQ(image.at(row(10), 0), 255);  // day 0 open tick
  EXPECT_EQ(image.at(row(11), 2), 255);  // day 0 close tick
  EXPECT_EQ(white_in_column(image, 0, 0, 25), 1);
  EXPECT_EQ(white_in_column(image, 1, 0, 25), row(8) - row(12) + 1);  // the high-low bar
  EXPECT_EQ(image.at(0, 13), 255);                                     // day 4's high is the chart's top
  // Volume bars: 600 fills the 6 rows, 100 one row.
  EXPECT_EQ(white_in_column(image, 13, 26, 32), 6);
  EXPECT_EQ(white_in_column(image, 1, 26, 32), 1);
  EXPECT_EQ(image.at(25, 13), 0);  // the gap stays black
  // Columns between days carry nothing but ticks: column 3 has day 1's open only.
  EXPECT_EQ(white_in_column(image, 3, 0, 32), 1);
}

TEST(ChartImage, MovingAverageLineIsConnected) {
  ChartOptions options;
  options.days = 5;
  options.volume = false;
  const Image with = render_chart(five_bars(), 4, options);
  options.moving_average = false;
  const Image without = render_chart(five_bars(), 4, options);
  std::int64_t extra = 0;
  for (std::size_t k = 0; k < with.pixels.size(); ++k) {
    extra += with.pixels[k] != without.pixels[k] ? 1 : 0;
  }
  EXPECT_GT(extra, 0);
  // Every column from the first to the last middle column has a white pixel.
  for (std::int64_t c = 1; c <= 13; ++c) {
    EXPECT_GT(white_in_column(with, c, 0, 32), 0) << c;
  }
}

TEST(ChartImage, SizesAndErrors) {
  ChartOptions options;
  EXPECT_EQ(options.image_height(), 64);
  EXPECT_EQ(options.image_width(), 60);
  options.days = 60;
  EXPECT_EQ(options.image_height(), 96);
  options.days = 7;
  EXPECT_THROW(options.image_height(), Error);
  EXPECT_THROW(ChartOptions::from_config(Config::parse(R"({"days": 7})")), ConfigError);
  options.days = 5;
  EXPECT_THROW(render_chart(five_bars(), 3, options), Error);
}

TEST(Image, PngRoundTripAndBadFiles) {
  const auto dir = std::filesystem::temp_directory_path() / "finfuse_image_test";
  std::filesystem::create_directories(dir);
  ChartOptions options;
  options.days = 5;
  const Image chart = render_chart(five_bars(), 4, options);
  save_png(chart, dir / "chart.png");
  const Image loaded = load_image(dir / "chart.png");
  EXPECT_EQ(loaded.pixels, chart.pixels);
  EXPECT_EQ(load_image(dir / "chart.png", 3).channels, 3);
  const Image small = resize_image(loaded, 16, 8);
  EXPECT_EQ(small.pixels.size(), 16u * 8u);
  EXPECT_EQ(loaded.to_chw_floats()[0], loaded.at(0, 0) / 255.0f);
  std::ofstream(dir / "broken.png") << "\x89PNG not really";
  EXPECT_THROW(load_image(dir / "broken.png"), DataError);
  EXPECT_THROW(load_image(dir / "absent.png"), IoError);
  std::filesystem::remove_all(dir);
}

TEST(ChartImageRealData, SP500TwentyDayChart) {
  FINFUSE_REQUIRE_SHARED_DATA(path, "market/sp500-2000.csv");
  PriceCsvOptions csv;
  csv.default_symbol = "SPX";
  csv.columns.adj_close = "adjclose";
  const PricePanel panel = PricePanel::load_csv(path, csv);
  const PriceSeries& spx = panel.series("SPX");
  const Image image = render_chart(spx, static_cast<std::int64_t>(spx.size()) - 1, ChartOptions{});
  EXPECT_EQ(image.height, 64);
  std::int64_t white = 0;
  for (auto p : image.pixels) {
    white += p == 255 ? 1 : 0;
  }
  EXPECT_GT(white, 20 * 3);
  EXPECT_LT(white, image.height * image.width / 2);
  const auto out = std::filesystem::temp_directory_path() / "finfuse_spx_chart.png";
  save_png(resize_image(image, 256, 240), out);
}

}  // namespace
}  // namespace finfuse::data
