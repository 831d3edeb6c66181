#include "finfuse/data/price_features.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <cmath>

namespace finfuse::data {
namespace {

// Three days; the adjusted close is half the raw close (a 2:1 split later on).
PriceSeries three_days() {
  PriceSeries s;
  s.symbol = std::string("S");
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

TEST(PriceWindow, TechnicalFeaturesOfAdvAlstm) {
  // 35 days: raw close 100 + d, adjusted close half of it, open 1 below and high 2 above the close, low 3 below.
  PriceSeries s;
  s.symbol = std::string("T");
  for (int d = 0; d < 35; ++d) {
    s.dates.push_back(Date::from_ymd(2015, 1, 1) + d);
    const double close = 100.0 + d;
    s.open.push_back(close - 1);
    s.high.push_back(close + 2);
    s.low.push_back(close - 3);
    s.close.push_back(close);
    s.adj_close.push_back(close / 2);
    s.volume.push_back(1000);
  }
  PriceWindowOptions options;
  options.normalize = "technical";
  EXPECT_EQ(options.features(), 11);
  const auto w = price_window(s, 34, 2, options);
  ASSERT_EQ(w.size(), 22u);
  // Day 34 (the second row): close 134.
  const float* row = w.data() + 11;
  EXPECT_NEAR(row[0], 133.0 / 134.0 - 1.0, 1e-7);
  EXPECT_NEAR(row[1], 136.0 / 134.0 - 1.0, 1e-7);
  EXPECT_NEAR(row[2], 131.0 / 134.0 - 1.0, 1e-7);
  EXPECT_NEAR(row[3], 134.0 / 133.0 - 1.0, 1e-7);
  EXPECT_NEAR(row[4], 134.0 / 133.0 - 1.0, 1e-7);
  // The k-day average of the closes 134, 133, ..., 135 - k is 134 - (k - 1) / 2.
  const int periods[] = {5, 10, 15, 20, 25, 30};
  for (int j = 0; j < 6; ++j) {
    EXPECT_NEAR(row[5 + j], (134.0 - (periods[j] - 1) / 2.0) / 134.0 - 1.0, 1e-6) << periods[j];
  }
  // Near the start of the series the averages take the bars there are: day 3 averages 4 closes for every k.
  const auto early = price_window(s, 3, 1, options);
  for (int j = 0; j < 6; ++j) {
    EXPECT_NEAR(early[5 + j], (103.0 - 1.5) / 103.0 - 1.0, 1e-6);
  }
  // The first bar has no previous close.
  EXPECT_FLOAT_EQ(price_window(s, 0, 1, options)[3], 0.0f);
}

TEST(PriceWindow, WindowMustFit) {
  EXPECT_THROW(price_window(three_days(), 1, 3, PriceWindowOptions{}), Error);
  EXPECT_THROW(price_window(three_days(), 3, 1, PriceWindowOptions{}), Error);
  EXPECT_THROW(PriceWindowOptions::from_config(Config::parse(R"({"normalize": "log"})")), ConfigError);
}

}  // namespace
}  // namespace finfuse::data
