#include "finfuse/data/numeric_preprocessor.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace finfuse::data {
namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// One column: observed 1, 2, 3, 4, 100 and one missing value. Mean 22, median 3, MAD 1,
// population standard deviation sqrt(7610 / 5) = 39.01282.
const std::vector<float> kColumn = {1, 2, 3, 4, kNaN, 100};

TEST(NumericPreprocessor, ZscoreWithMedianFill) {
  NumericPreprocessor p;
  p.fit(kColumn, 1, {"x"});
  const auto y = p.transform(kColumn);
  const double sd = std::sqrt(7610.0 / 5.0);
  EXPECT_NEAR(y[0], (1 - 22) / sd, 1e-5);
  EXPECT_NEAR(y[4], (3 - 22) / sd, 1e-5);  // the missing value takes the median
  EXPECT_NEAR(y[5], (100 - 22) / sd, 1e-5);
}

TEST(NumericPreprocessor, RobustScaling) {
  NumericPreprocessorOptions options;
  options.scale = "robust";
  NumericPreprocessor p(options);
  p.fit(kColumn, 1);
  const auto y = p.transform({100.0f, 3.0f});
  EXPECT_NEAR(y[0], 97.0 / 1.4826, 1e-3);
  EXPECT_NEAR(y[1], 0.0, 1e-6);
}

TEST(NumericPreprocessor, MadClippingAndWinsorising) {
  NumericPreprocessorOptions mad;
  mad.clip = "mad";
  mad.scale = "none";
  NumericPreprocessor clipper(mad);
  clipper.fit(kColumn, 1);
  EXPECT_NEAR(clipper.transform({100.0f})[0], 3 + 5 * 1.4826, 1e-4);
  EXPECT_NEAR(clipper.transform({-100.0f})[0], 3 - 5 * 1.4826, 1e-4);

  NumericPreprocessorOptions winsor;
  winsor.clip = "winsorize";
  winsor.lower_quantile = 0.25;
  winsor.upper_quantile = 0.75;
  winsor.scale = "minmax";
  NumericPreprocessor p(winsor);
  p.fit(kColumn, 1);
  // Quartiles of 1, 2, 3, 4, 100 are 2 and 4: values are clipped there, then mapped to [0, 1].
  const auto y = p.transform({1.0f, 3.0f, 100.0f});
  EXPECT_FLOAT_EQ(y[0], 0.0f);
  EXPECT_FLOAT_EQ(y[1], 0.5f);
  EXPECT_FLOAT_EQ(y[2], 1.0f);
}

TEST(NumericPreprocessor, Log1pAndIndicatorsAndConstantColumns) {
  NumericPreprocessorOptions options;
  options.scale = "log1p";
  options.missing_indicators = true;
  NumericPreprocessor p(options);
  // Two columns: the first has a missing value, the second is constant.
  p.fit({0.0f, 5.0f, kNaN, 5.0f, 99.0f, 5.0f}, 2, {"income", "flag"});
  EXPECT_EQ(p.output_columns(), 3u);
  EXPECT_EQ(p.output_names(), (std::vector<std::string>{"income", "flag", "income_missing"}));
  const auto y = p.transform({kNaN, 5.0f});
  const double a = 0.0;
  const double b = std::log1p(99.0);
  const double mean = (a + b) / 2;
  const double sd = std::abs(b - a) / 2;
  // The fill is the median of the raw values (49.5), then log1p and scaling apply.
  EXPECT_NEAR(y[0], (std::log1p(49.5) - mean) / sd, 1e-5);
  EXPECT_FLOAT_EQ(y[1], 0.0f);  // constant column: centred, scale 1
  EXPECT_FLOAT_EQ(y[2], 1.0f);
}

TEST(NumericPreprocessor, JsonRoundTripReproducesTheTransform) {
  NumericPreprocessorOptions options;
  options.clip = "winsorize";
  options.missing_indicators = true;
  NumericPreprocessor p(options);
  p.fit(kColumn, 1, {"x"});
  const NumericPreprocessor restored = NumericPreprocessor::from_json(Config(p.to_json()));
  EXPECT_EQ(restored.to_json(), p.to_json());
  const auto a = p.transform(kColumn);
  const auto b = restored.transform(kColumn);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_FLOAT_EQ(a[i], b[i]);
  }
  Json broken = p.to_json();
  broken["columns"][0]["scale"] = -1;
  try {
    NumericPreprocessor::from_json(Config(broken, "bundle/preprocessing.json"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/columns/0/scale");
  }
}

TEST(NumericPreprocessor, UnboundedStateRoundTrips) {
  // Without clipping the bounds are infinite and stored as null.
  NumericPreprocessor p;
  p.fit(kColumn, 1);
  const Json state = p.to_json();
  EXPECT_TRUE(state["columns"][0]["lower"].is_null());
  const NumericPreprocessor restored = NumericPreprocessor::from_json(Config(state));
  EXPECT_FLOAT_EQ(restored.transform({1e30f})[0], p.transform({1e30f})[0]);
}

TEST(NumericPreprocessor, Errors) {
  NumericPreprocessor p;
  EXPECT_THROW(p.transform({1.0f}), Error);
  EXPECT_THROW(p.fit({1.0f, 2.0f, 3.0f}, 2), Error);
  EXPECT_THROW(p.fit({kNaN, 1.0f, kNaN, 2.0f}, 2, {"empty", "ok"}), Error);
}

TEST(CrossSection, ZscoreAndRankPerGroup) {
  const std::vector<float> values = {1, 3, 2, 4, kNaN};
  const std::vector<std::int64_t> days = {0, 0, 1, 1, 1};
  const auto z = cross_sectional_zscore(values, days);
  EXPECT_FLOAT_EQ(z[0], -1.0f);
  EXPECT_FLOAT_EQ(z[1], 1.0f);
  EXPECT_FLOAT_EQ(z[2], -1.0f);
  EXPECT_TRUE(std::isnan(z[4]));
  const auto r = cross_sectional_rank(values, days);
  EXPECT_FLOAT_EQ(r[0], 0.0f);
  EXPECT_FLOAT_EQ(r[3], 1.0f);
  EXPECT_THROW(cross_sectional_rank(values, {0}), Error);
}

}  // namespace
}  // namespace finfuse::data
