#include "finfuse/data/price_features.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

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

// A series of `n` bars with a random walk, splits (the adjustment factor changes) and zero-volume days.
PriceSeries random_series(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  PriceSeries s;
  s.symbol = "R" + std::to_string(seed);
  double price = 50.0;
  double factor = 1.0;
  for (std::size_t i = 0; i < n; ++i) {
    s.dates.push_back(Date::from_ymd(2010, 1, 4) + static_cast<std::int32_t>(i));
    price *= std::exp(0.03 * (u(rng) - 0.5));
    if (u(rng) < 0.05) {
      factor *= 0.5;
    }
    s.open.push_back(price * (1.0 + 0.01 * (u(rng) - 0.5)));
    s.high.push_back(price * (1.0 + 0.02 * u(rng)));
    s.low.push_back(price * (1.0 - 0.02 * u(rng)));
    s.close.push_back(price);
    s.adj_close.push_back(price * factor);
    s.volume.push_back(u(rng) < 0.1 ? 0.0 : std::floor(1e6 * u(rng)));
  }
  return s;
}

// Windows finished from bars kept once are the very floats price_window() cuts, for every normalisation, every window
// of two series appended one after the other (the second series' windows start at its own first bar).
TEST(PriceBars, WindowsEqualPriceWindowBitForBit) {
  const std::vector<PriceSeries> series = {random_series(70, 1), random_series(45, 2)};
  for (const std::string normalize : {"returns", "relative", "zscore", "technical"}) {
    PriceWindowOptions options;
    options.normalize = normalize;
    PriceBars bars(options);
    std::vector<std::int64_t> first;
    // The second series is appended after the first finish(): its rows join the earlier ones.
    for (const auto& s : series) {
      first.push_back(bars.append(s));
      EXPECT_THROW(bars.window(first.back(), 1, nullptr), Error);  // not readable before finish()
      bars.finish();
    }
    ASSERT_EQ(bars.rows(), 115);
    for (std::size_t e = 0; e < series.size(); ++e) {
      for (const std::int64_t length : {1, 2, 5, 20, 45}) {
        for (std::int64_t last = length - 1; last < static_cast<std::int64_t>(series[e].size()); ++last) {
          const auto expected = price_window(series[e], last, length, options);
          std::vector<float> got(expected.size(), -7.0f);
          bars.window(first[e] + last, length, got.data());
          ASSERT_EQ(std::memcmp(got.data(), expected.data(), expected.size() * sizeof(float)), 0)
              << normalize << ": series " << e << ", window of " << length << " ending at bar " << last;
        }
      }
    }
    EXPECT_THROW(bars.window(3, 5, nullptr), Error);
    EXPECT_THROW(bars.window(115, 1, nullptr), Error);
  }
}

TEST(PriceBars, SavedBarsLoadAndDamagedOnesAreRefused) {
  PriceWindowOptions options;
  PriceBars bars(options);
  bars.append(random_series(30, 3));
  bars.finish();
  EXPECT_EQ(bars.bytes(), 30 * 5 * sizeof(float));
  BinaryWriter w;
  bars.save(w);
  const std::string bytes = w.take();
  PriceBars loaded(options);
  BinaryReader r(bytes, "cache.bin");
  loaded.load(r);
  EXPECT_TRUE(r.done());
  EXPECT_FALSE(loaded.is_view());
  std::vector<float> a(50), b(50);
  bars.window(29, 10, a.data());
  loaded.window(29, 10, b.data());
  EXPECT_EQ(a, b);
  // Read from bytes that something keeps alive: in place, the same windows.
  const auto kept = std::make_shared<const std::string>(bytes);
  PriceBars in_place(options);
  BinaryReader kept_reader(*kept, "cache.bin", kept);
  in_place.load(kept_reader);
  EXPECT_TRUE(in_place.is_view());
  std::vector<float> c(50);
  in_place.window(29, 10, c.data());
  EXPECT_EQ(a, c);
  // Bars saved under "returns" (4 + 1 values a bar) do not load as "technical" (11).
  PriceWindowOptions technical;
  technical.normalize = "technical";
  PriceBars other(technical);
  BinaryReader again(bytes, "cache.bin");
  try {
    other.load(again);
    FAIL() << "bars of another normalisation were loaded";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("cache.bin"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("price bars"), std::string::npos) << e.what();
  }
  // A row count that would wrap around when multiplied by the width.
  std::string damaged = bytes;
  const std::int64_t huge = (std::int64_t{1} << 62) + 30;
  std::memcpy(damaged.data(), &huge, sizeof(huge));
  BinaryReader broken(damaged, "cache.bin");
  EXPECT_THROW(PriceBars(options).load(broken), DataError);
}

}  // namespace
}  // namespace finfuse::data
