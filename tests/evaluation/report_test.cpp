// Run reports: self-contained HTML with SVG plots, opened in a real headless browser (Debian's chromium) whose
// screenshot must show the plots drawn.
#include "finfuse/evaluation/report.h"

#include "finfuse/core/random.h"
#include "finfuse/data/image.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>

namespace finfuse::evaluation {
namespace {

// Ten days of twenty stocks with informative scores.
PredictionRows rows() {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal;
  PredictionRows r;
  r.classes = 2;
  for (int day = 0; day < 10; ++day) {
    for (int e = 0; e < 20; ++e) {
      const double ret = 0.01 * normal(rng);
      const double p = 1.0 / (1.0 + std::exp(-(ret * 150.0 + normal(rng))));
      r.append_row(17000 + day, e, ret > 0 ? 1.0 : 0.0, ret, {1.0 - p, p}, p);
    }
  }
  return r;
}

HtmlReport sample_report() {
  HtmlReport report("finfuse test report <&>");
  report.add_values("Metrics", {{"accuracy", 0.75}, {"roc_auc", 0.8}});
  std::vector<std::map<std::string, double>> history;
  for (int e = 0; e < 6; ++e) {
    history.push_back({{"train.loss", 0.7 - 0.05 * e}, {"valid.loss", 0.68 - 0.03 * e}, {"valid.mcc", 0.1 * e}});
  }
  add_learning_curves(report, history, "valid.mcc");
  add_prediction_plots(report, "direction", rows());
  report.add_json("manifest", Json{{"seed", 1}});
  return report;
}

TEST(Report, SelfContainedHtmlWithEveryPlot) {
  const auto html = sample_report().html();
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "nothing is fetched";
  EXPECT_NE(html.find("finfuse test report &lt;&amp;&gt;"), std::string::npos) << "text is escaped";
  std::size_t charts = 0;
  for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) {
    ++charts;
  }
  // Learning curves, monitored value, ROC, PR, calibration, confusion matrix, IC per date, equity, drawdown.
  EXPECT_EQ(charts, 9U);
  for (const std::string caption : {"ROC curve", "precision-recall", "calibration", "confusion matrix", "IC per date",
                                    "cumulative equity", "drawdown", "Learning curves"}) {
    EXPECT_NE(html.find(caption), std::string::npos) << caption;
  }
}

TEST(Report, RendersInAHeadlessBrowser) {
  const char* candidates[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"};
  std::string browser;
  for (const char* c : candidates) {
    if (std::filesystem::exists(c)) {
      browser = c;
      break;
    }
  }
  if (browser.empty()) {
    GTEST_SKIP() << "no chromium (scripts/install-deps.sh installs Debian's chromium for this test)";
  }
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_report");
  sample_report().write(dir / "report.html");
  // Inside the test's own temporary folder, kept (and named) only when the test fails.
  const auto screenshot = dir / "report_screenshot.png";
  const std::string command = browser + " --headless --no-sandbox --disable-gpu --hide-scrollbars "
                              "--window-size=1400,2000 --screenshot=" + screenshot.string() + " file://" +
                              (dir / "report.html").string() + " > " + (dir / "browser.log").string() + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  ASSERT_TRUE(std::filesystem::exists(screenshot));
  const auto image = data::load_image(screenshot, 3);
  EXPECT_EQ(image.width, 1400);
  // The plots were drawn: many pixels of the first series' blue (#1f77b4) and of the negative bars' red (#d62728).
  std::int64_t blue = 0, red = 0, ink = 0;
  for (std::int64_t y = 0; y < image.height; ++y) {
    for (std::int64_t x = 0; x < image.width; ++x) {
      const int r = image.at(y, x, 0), g = image.at(y, x, 1), b = image.at(y, x, 2);
      blue += std::abs(r - 31) < 12 && std::abs(g - 119) < 12 && std::abs(b - 180) < 12;
      red += std::abs(r - 214) < 12 && std::abs(g - 39) < 12 && std::abs(b - 40) < 12;
      ink += r + g + b < 600;
    }
  }
  EXPECT_GT(blue, 2000) << "plot lines and bars";
  EXPECT_GT(red, 100) << "negative IC bars and the validation loss";
  EXPECT_GT(ink, image.width * image.height / 100);
  std::printf("screenshot: %lld blue, %lld red pixels\n", static_cast<long long>(blue), static_cast<long long>(red));
  if (HasFailure()) {
    std::printf("kept for inspection: %s\n", screenshot.c_str());
  } else {
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace finfuse::evaluation
