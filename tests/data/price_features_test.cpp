#include "finfuse/data/price_features.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <cmath>

namespace finfuse::data {
namespace {

// Three days; the adjusted close is half the raw close (a 2:1 split later on).
PriceSeries three_days() {
  PriceSeries s;
  s.symbol = "S";
  s.dates = {Date::from_ymd(2015, 1, 5), Date::from_ymd(2015, 1, 6), Date::from_ymd(2015, 1, 7)};
  s.open = {20, 22, 24};
  s.high = {22, 24, 26};
  s.low = {18, 20, 22};
  s.close = {20, 22, 24};
  s.adj_close = {10, 11, 12};
  s.volume = {100, 200, 300};
  return s;
}

TEST(PriceWindow, ReturnsAgainstThePreviousClose) {
  const auto w = price_window(three_days(), 2, 2, PriceWindowOptions{});
  ASSERT_EQ(w.size(), 10u);
  // Day 1: adjusted open 11, high 12, low 10, close 11 over the previous adjusted close 10.
  EXPECT_FLOAT_EQ(w[0], 0.1f);
  EXPECT_FLOAT_EQ(w[1], 0.2f);
  EXPECT_FLOAT_EQ(w[2], 0.0f);
  EXPECT_FLOAT_EQ(w[3], 0.1f);
  // Volume: log1p, demeaned over the window.
  EXPECT_NEAR(w[4], (std::log1p(200.0) - std::log1p(300.0)) / 2, 1e-6);
  EXPECT_NEAR(w[8], 12.0 / 11.0 - 1.0, 1e-6);
}

TEST(PriceWindow, RelativeToTheLastCloseAndZscore) {
  PriceWindowOptions relative;
  relative.normalize = "relative";
  const auto r = price_window(three_days(), 2, 3, relative);
  EXPECT_FLOAT_EQ(r[3], 10.0f / 12.0f - 1.0f);
  EXPECT_FLOAT_EQ(r[13], 0.0f);                // the last close itself
  EXPECT_FLOAT_EQ(r[4], 100.0f / 200.0f - 1);  // volume over the mean 200
  PriceWindowOptions zscore;
  zscore.normalize = "zscore";
  const auto z = price_window(three_days(), 2, 3, zscore);
  EXPECT_NEAR(z[3], -std::sqrt(1.5), 1e-6);  // closes 10, 11, 12: z = -1.2247, 0, 1.2247
  EXPECT_NEAR(z[8], 0.0, 1e-6);
}

TEST(PriceWindow, WindowMustFit) {
  EXPECT_THROW(price_window(three_days(), 1, 3, PriceWindowOptions{}), Error);
  EXPECT_THROW(price_window(three_days(), 3, 1, PriceWindowOptions{}), Error);
  EXPECT_THROW(PriceWindowOptions::from_config(Config::parse(R"({"normalize": "log"})")), ConfigError);
}

}  // namespace
}  // namespace finfuse::data
