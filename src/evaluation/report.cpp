#include "finfuse/evaluation/report.h"

#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/data/time.h"
#include "finfuse/evaluation/metric.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace finfuse::evaluation {
namespace {

constexpr int kWidth = 640;
constexpr int kHeight = 320;
constexpr int kLeft = 64;
constexpr int kRight = 16;
constexpr int kTop = 16;
constexpr int kBottom = 48;
const std::vector<std::string> kColors = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string number(double v) {
  if (!std::isfinite(v)) {
    return "-";
  }
  return fmt::format("{:.4g}", v);
}

// Round tick positions covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int count = 5) {
  if (!(hi > lo)) {
    return {lo};
  }
  const double raw = (hi - lo) / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (magnitude * m >= raw) {
      step = magnitude * m;
      break;
    }
  }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return out;
}

struct Frame {
  double x0, x1, y0, y1;
  double px(double x) const { return kLeft + (x - x0) / (x1 - x0) * (kWidth - kLeft - kRight); }
  double py(double y) const { return kTop + (1.0 - (y - y0) / (y1 - y0)) * (kHeight - kTop - kBottom); }
};

std::string axes(const Frame& f, const std::string& x_label, const std::string& y_label,
                 const std::vector<std::string>& x_labels) {
  std::ostringstream svg;
  svg << fmt::format(R"svg(<rect x="{}" y="{}" width="{}" height="{}" class="plot"/>)svg", kLeft, kTop,
                     kWidth - kLeft - kRight, kHeight - kTop - kBottom);
  for (const double t : ticks(f.y0, f.y1)) {
    svg << fmt::format(R"svg(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" class="grid"/>)svg", kLeft, kWidth - kRight,
                       f.py(t), f.py(t));
    svg << fmt::format(R"svg(<text x="{}" y="{:.1f}" class="tick" text-anchor="end">{}</text>)svg", kLeft - 6,
                       f.py(t) + 4, number(t));
  }
  if (x_labels.empty()) {
    for (const double t : ticks(f.x0, f.x1)) {
      svg << fmt::format(R"svg(<text x="{:.1f}" y="{}" class="tick" text-anchor="middle">{}</text>)svg", f.px(t),
                         kHeight - kBottom + 16, number(t));
    }
  } else {
    const std::size_t n = x_labels.size();
    const std::size_t every = std::max<std::size_t>(1, n / 6);
    for (std::size_t i = 0; i < n; i += every) {
      svg << fmt::format(R"svg(<text x="{:.1f}" y="{}" class="tick" text-anchor="middle">{}</text>)svg",
                         f.px(static_cast<double>(i)), kHeight - kBottom + 16, escape(x_labels[i]));
    }
  }
  svg << fmt::format(R"svg(<text x="{}" y="{}" class="label" text-anchor="middle">{}</text>)svg",
                     (kLeft + kWidth - kRight) / 2, kHeight - 8, escape(x_label));
  svg << fmt::format(R"svg(<text x="14" y="{}" class="label" text-anchor="middle" transform="rotate(-90 14 {})">{}</text>)svg",
                     (kTop + kHeight - kBottom) / 2, (kTop + kHeight - kBottom) / 2, escape(y_label));
  return svg.str();
}

}  // namespace

HtmlReport::HtmlReport(std::string title) : title_(std::move(title)) {}

void HtmlReport::add_heading(const std::string& text) { body_ += "<h2>" + escape(text) + "</h2>\n"; }

void HtmlReport::add_paragraph(const std::string& text) { body_ += "<p>" + escape(text) + "</p>\n"; }

void HtmlReport::add_links(const std::string& title,
                           const std::vector<std::pair<std::string, std::string>>& links) {
  std::string out = "<h3>" + escape(title) + "</h3>\n<ul>\n";
  for (const auto& [label, href] : links) {
    out += "<li><a href=\"" + escape(href) + "\">" + escape(label) + "</a></li>\n";
  }
  body_ += out + "</ul>\n";
}

void HtmlReport::add_values(const std::string& title, const std::map<std::string, double>& values) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : values) {
    rows.push_back({k, number(v)});
  }
  add_table(title, {"metric", "value"}, rows);
}

void HtmlReport::add_table(const std::string& title, const std::vector<std::string>& columns,
                           const std::vector<std::vector<std::string>>& rows) {
  std::ostringstream out;
  out << "<figure><figcaption>" << escape(title) << "</figcaption><table><tr>";
  for (const auto& c : columns) {
    out << "<th>" << escape(c) << "</th>";
  }
  out << "</tr>";
  for (const auto& row : rows) {
    out << "<tr>";
    for (const auto& cell : row) {
      out << "<td>" << escape(cell) << "</td>";
    }
    out << "</tr>";
  }
  out << "</table></figure>\n";
  body_ += out.str();
}

void HtmlReport::add_line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                                const std::vector<Series>& series, const std::vector<std::string>& x_labels,
                                bool diagonal) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      const double x = s.x.empty() ? static_cast<double>(i) : s.x[i];
      if (std::isfinite(x) && std::isfinite(s.y[i])) {
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
        y0 = std::min(y0, s.y[i]);
        y1 = std::max(y1, s.y[i]);
      }
    }
  }
  if (!std::isfinite(x0)) {
    return;  // nothing to draw
  }
  if (diagonal) {
    x0 = y0 = std::min(x0, y0);
    x1 = y1 = std::max(x1, y1);
  }
  if (x1 == x0) {
    x1 = x0 + 1.0;
  }
  if (y1 == y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const double pad = (y1 - y0) * 0.05;
  const Frame f{x0, x1, diagonal ? y0 : y0 - pad, diagonal ? y1 : y1 + pad};
  std::ostringstream svg;
  svg << fmt::format(R"svg(<svg class="chart" id="chart-{}" viewBox="0 0 {} {}" width="{}" height="{}">)svg", ++charts_,
                     kWidth, kHeight, kWidth, kHeight);
  svg << axes(f, x_label, y_label, x_labels);
  if (diagonal) {
    svg << fmt::format(R"svg(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="diagonal"/>)svg", f.px(x0),
                       f.py(x0), f.px(x1), f.py(x1));
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::ostringstream points;
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      const double x = s.x.empty() ? static_cast<double>(i) : s.x[i];
      if (std::isfinite(x) && std::isfinite(s.y[i])) {
        points << fmt::format("{:.1f},{:.1f} ", f.px(x), f.py(s.y[i]));
      }
    }
    const auto& color = kColors[k % kColors.size()];
    svg << fmt::format(R"svg(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)svg", points.str(), color);
    if (s.y.size() <= 30) {  // few points: mark each one
      for (std::size_t i = 0; i < s.y.size(); ++i) {
        const double x = s.x.empty() ? static_cast<double>(i) : s.x[i];
        if (std::isfinite(x) && std::isfinite(s.y[i])) {
          svg << fmt::format(R"svg(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/>)svg", f.px(x), f.py(s.y[i]), color);
        }
      }
    }
    svg << fmt::format(R"svg(<rect x="{}" y="{}" width="12" height="3" fill="{}"/><text x="{}" y="{}" class="legend">{}</text>)svg",
                       kLeft + 10, kTop + 10 + 16 * static_cast<int>(k), color, kLeft + 28,
                       kTop + 14 + 16 * static_cast<int>(k), escape(s.name));
  }
  svg << "</svg>";
  body_ += "<figure><figcaption>" + escape(title) + "</figcaption>" + svg.str() + "</figure>\n";
}

void HtmlReport::add_bar_chart(const std::string& title, const std::string& y_label,
                               const std::vector<std::string>& labels, const std::vector<double>& values) {
  if (values.empty()) {
    return;
  }
  double y0 = 0.0, y1 = 0.0;
  for (const double v : values) {
    if (std::isfinite(v)) {
      y0 = std::min(y0, v);
      y1 = std::max(y1, v);
    }
  }
  if (y1 == y0) {
    y1 = y0 + 1.0;
  }
  const Frame f{-0.5, static_cast<double>(values.size()) - 0.5, y0, y1};
  const double width = std::max(1.0, (kWidth - kLeft - kRight) / static_cast<double>(values.size()) * 0.8);
  std::ostringstream svg;
  svg << fmt::format(R"svg(<svg class="chart" id="chart-{}" viewBox="0 0 {} {}" width="{}" height="{}">)svg", ++charts_,
                     kWidth, kHeight, kWidth, kHeight);
  svg << axes(f, "", y_label, labels);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      continue;
    }
    const double top = f.py(std::max(values[i], 0.0));
    const double bottom = f.py(std::min(values[i], 0.0));
    svg << fmt::format(R"svg(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>)svg",
                       f.px(static_cast<double>(i)) - width / 2, top, width, std::max(0.5, bottom - top),
                       values[i] >= 0 ? kColors[0] : kColors[1]);
  }
  svg << "</svg>";
  body_ += "<figure><figcaption>" + escape(title) + "</figcaption>" + svg.str() + "</figure>\n";
}

void HtmlReport::add_matrix(const std::string& title, const std::vector<std::vector<double>>& matrix,
                            const std::string& row_label, const std::string& column_label) {
  const std::size_t k = matrix.size();
  if (k == 0) {
    return;
  }
  double top = 1.0;
  for (const auto& row : matrix) {
    for (const double v : row) {
      top = std::max(top, v);
    }
  }
  const int cell = std::min(96, 480 / static_cast<int>(k));
  const int size = cell * static_cast<int>(k);
  std::ostringstream svg;
  svg << fmt::format(R"svg(<svg class="chart" id="chart-{}" viewBox="0 0 {} {}" width="{}" height="{}">)svg", ++charts_,
                     size + 80, size + 60, size + 80, size + 60);
  for (std::size_t r = 0; r < k; ++r) {
    for (std::size_t c = 0; c < k; ++c) {
      const double shade = matrix[r][c] / top;
      const int x = 60 + static_cast<int>(c) * cell;
      const int y = 20 + static_cast<int>(r) * cell;
      svg << fmt::format(R"svg(<rect x="{}" y="{}" width="{}" height="{}" fill="rgb({},{},{})" stroke="#fff"/>)svg", x, y,
                         cell, cell, static_cast<int>(255 - 224 * shade), static_cast<int>(255 - 136 * shade),
                         static_cast<int>(255 - 75 * shade));
      svg << fmt::format(R"svg(<text x="{}" y="{}" text-anchor="middle" class="{}">{}</text>)svg", x + cell / 2,
                         y + cell / 2 + 4, shade > 0.6 ? "cell-dark" : "cell", number(matrix[r][c]));
    }
    svg << fmt::format(R"svg(<text x="52" y="{}" text-anchor="end" class="tick">{}</text>)svg",
                       20 + static_cast<int>(r) * cell + cell / 2 + 4, r);
    svg << fmt::format(R"svg(<text x="{}" y="14" text-anchor="middle" class="tick">{}</text>)svg",
                       60 + static_cast<int>(r) * cell + cell / 2, r);
  }
  svg << fmt::format(R"svg(<text x="{}" y="{}" class="label" text-anchor="middle">{}</text>)svg", 60 + size / 2, size + 44,
                     escape(column_label));
  svg << fmt::format(R"svg(<text x="14" y="{}" class="label" text-anchor="middle" transform="rotate(-90 14 {})">{}</text>)svg",
                     20 + size / 2, 20 + size / 2, escape(row_label));
  svg << "</svg>";
  body_ += "<figure><figcaption>" + escape(title) + "</figcaption>" + svg.str() + "</figure>\n";
}

void HtmlReport::add_json(const std::string& title, const Json& document) {
  body_ += "<figure><figcaption>" + escape(title) + "</figcaption><pre>" + escape(document.dump(2)) + "</pre></figure>\n";
}

std::string HtmlReport::html() const {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title_) +
         "</title>\n<style>\n"
         "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1400px;color:#222}"
         "h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}"
         "figure{display:inline-block;vertical-align:top;margin:8px 16px 16px 0}"
         "figcaption{font-weight:600;font-size:14px;margin-bottom:4px}"
         "table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;border-bottom:1px solid #eee;"
         "text-align:left}pre{font-size:12px;background:#f7f7f7;padding:8px;max-width:900px;overflow:auto}"
         ".plot{fill:#fff;stroke:#bbb}.grid{stroke:#eee}.diagonal{stroke:#999;stroke-dasharray:4 4}"
         ".tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}.legend{font-size:12px;fill:#333}"
         ".cell{font-size:13px;fill:#222}.cell-dark{font-size:13px;fill:#fff}\n"
         "</style></head><body>\n<h1>" +
         escape(title_) + "</h1>\n" + body_ + "</body></html>\n";
}

void HtmlReport::write(const std::filesystem::path& path) const {
  write_file_atomically(path, html());
  logger()->info("report written to {}", path.string());
}

void add_learning_curves(HtmlReport& report, const std::vector<std::map<std::string, double>>& history,
                         const std::string& monitor) {
  if (history.empty()) {
    return;
  }
  std::vector<Series> losses;
  for (const std::string key : {"train.loss", "valid.loss"}) {
    Series s{key, {}, {}};
    for (std::size_t e = 0; e < history.size(); ++e) {
      const auto it = history[e].find(key);
      s.x.push_back(static_cast<double>(e + 1));
      s.y.push_back(it == history[e].end() ? NAN : it->second);
    }
    losses.push_back(s);
  }
  report.add_line_chart("Learning curves", "epoch", "loss", losses);
  if (!monitor.empty() && monitor != "valid.loss" && monitor != "train.loss") {
    Series s{monitor, {}, {}};
    for (std::size_t e = 0; e < history.size(); ++e) {
      const auto it = history[e].find(monitor);
      s.x.push_back(static_cast<double>(e + 1));
      s.y.push_back(it == history[e].end() ? NAN : it->second);
    }
    report.add_line_chart("Monitored value", "epoch", monitor, {s});
  }
}

void add_prediction_plots(HtmlReport& report, const std::string& title, const PredictionRows& rows,
                          const BacktestOptions& backtest) {
  if (rows.size() == 0) {
    return;
  }
  // Only rows with a known target are scored.
  std::vector<std::size_t> known;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (std::isfinite(rows.target[i])) {
      known.push_back(i);
    }
  }
  if (rows.classes >= 2 && !known.empty()) {
    // Class 1 (or each class's own probability beyond two) against the rest: sweep the thresholds.
    std::vector<std::size_t> order = known;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return rows.probability(a, 1) > rows.probability(b, 1);
    });
    double positives = 0.0;
    for (const auto i : known) {
      positives += rows.target[i] == 1.0 ? 1.0 : 0.0;
    }
    const double negatives = static_cast<double>(known.size()) - positives;
    if (positives > 0 && negatives > 0) {
      Series roc{"ROC", {0.0}, {0.0}}, pr{"precision-recall", {}, {}};
      double tp = 0.0, fp = 0.0;
      for (std::size_t k = 0; k < order.size(); ++k) {
        (rows.target[order[k]] == 1.0 ? tp : fp) += 1.0;
        if (k + 1 == order.size() || rows.probability(order[k + 1], 1) != rows.probability(order[k], 1)) {
          roc.x.push_back(fp / negatives);
          roc.y.push_back(tp / positives);
          pr.x.push_back(tp / positives);
          pr.y.push_back(tp / (tp + fp));
        }
      }
      const auto auc = make_metric(Config(Json("roc_auc")))->compute(rows).values.at("roc_auc");
      report.add_line_chart(fmt::format("{}: ROC curve (AUC {:.4f}, class 1 against the rest)", title, auc),
                            "false positive rate", "true positive rate", {roc}, {}, true);
      report.add_line_chart(fmt::format("{}: precision-recall curve (base rate {:.3f})", title,
                                        positives / static_cast<double>(known.size())),
                            "recall", "precision", {pr});
      // Calibration: ten bins of P(class 1).
      std::vector<double> count(10, 0.0), predicted(10, 0.0), observed(10, 0.0);
      for (const auto i : known) {
        const double p = rows.probability(i, 1);
        const auto b = std::min<std::size_t>(9, static_cast<std::size_t>(p * 10.0));
        count[b] += 1;
        predicted[b] += p;
        observed[b] += rows.target[i] == 1.0 ? 1.0 : 0.0;
      }
      Series calibration{"observed frequency", {}, {}};
      for (std::size_t b = 0; b < 10; ++b) {
        if (count[b] > 0) {
          calibration.x.push_back(predicted[b] / count[b]);
          calibration.y.push_back(observed[b] / count[b]);
        }
      }
      report.add_line_chart(title + ": calibration (ten bins of P(class 1))", "mean predicted probability",
                            "observed frequency", {calibration}, {}, true);
    }
    std::vector<std::vector<double>> matrix(static_cast<std::size_t>(rows.classes),
                                            std::vector<double>(static_cast<std::size_t>(rows.classes), 0.0));
    for (const auto i : known) {
      const auto t = static_cast<std::size_t>(rows.target[i]);
      if (t < matrix.size()) {
        matrix[t][static_cast<std::size_t>(rows.predicted_class(i))] += 1.0;
      }
    }
    report.add_matrix(title + ": confusion matrix", matrix, "true class", "predicted class");
  }
  // Finance: IC per date and the long-short equity curve, where returns and dates exist.
  bool dated = false;
  for (const auto i : known) {
    dated = dated || (rows.day[i] != 0 && std::isfinite(rows.forward_return[i]));
  }
  if (!dated) {
    return;
  }
  try {
    const auto ic = make_metric(Config(Json("ic")))->compute(rows);
    std::vector<std::string> labels;
    std::vector<double> values;
    for (const auto& d : ic.details.at("per_day")) {
      labels.push_back(data::Date(d.at("day").get<std::int32_t>()).to_string());
      values.push_back(d.at("ic").get<double>());
    }
    report.add_bar_chart(fmt::format("{}: IC per date (mean {}, ICIR {})", title, number(ic.values.at("ic")),
                                     number(ic.values.at("icir"))),
                         "IC", labels, values);
  } catch (const Error& e) {
    logger()->debug("report: no IC plot: {}", e.what());
  }
  try {
    const auto result = run_backtest(rows, backtest);
    Series equity{backtest.kind == "timing" ? "timing strategy, net of costs" : "long-short, net of costs", {}, {}};
    Series hold{"buy and hold (equal weights)", {}, {}};
    Series drawdown{"drawdown", {}, {}};
    std::vector<std::string> labels;
    double peak = 1.0;
    for (const auto& d : result.days) {
      labels.push_back(data::Date(d.day).to_string());
      equity.y.push_back(d.equity);
      hold.y.push_back(d.benchmark_equity);
      peak = std::max(peak, d.equity);
      drawdown.y.push_back(d.equity / peak - 1.0);
    }
    report.add_line_chart(fmt::format("{}: cumulative equity (Sharpe {}, annual return {}; buy and hold {})", title,
                                      number(result.sharpe), number(result.annual_return),
                                      number(result.benchmark_annual_return)),
                          "date", "equity", {equity, hold}, labels);
    report.add_line_chart(fmt::format("{}: drawdown (max {})", title, number(result.max_drawdown)), "date",
                          "drawdown", {drawdown}, labels);
  } catch (const Error& e) {
    logger()->debug("report: no backtest plot: {}", e.what());
  }
}

}  // namespace finfuse::evaluation
