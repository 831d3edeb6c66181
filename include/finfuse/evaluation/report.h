// Run reports: one self-contained HTML file (inline SVG and CSS, no scripts, nothing fetched) that a browser opens
// offline, with the plots a person would rather look at than read: learning curves, ROC and precision-recall curves,
// calibration, the confusion matrix, IC per date, the long-short equity curve and its drawdown; and the metric tables
// and the run's manifest.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/evaluation/backtest.h"
#include "finfuse/evaluation/predictions.h"

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::evaluation {

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

class HtmlReport {
 public:
  explicit HtmlReport(std::string title);

  void add_heading(const std::string& text);
  void add_paragraph(const std::string& text);
  /// A list of links (label, relative or absolute address), e.g. to the reports of related runs.
  void add_links(const std::string& title, const std::vector<std::pair<std::string, std::string>>& links);
  void add_values(const std::string& title, const std::map<std::string, double>& values);
  void add_table(const std::string& title, const std::vector<std::string>& columns,
                 const std::vector<std::vector<std::string>>& rows);
  /// Lines through (x, y) per series; `x_labels`, when given, label x = 0, 1, ... (dates). `diagonal` draws y = x.
  void add_line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                      const std::vector<Series>& series, const std::vector<std::string>& x_labels = {},
                      bool diagonal = false);
  void add_bar_chart(const std::string& title, const std::string& y_label, const std::vector<std::string>& labels,
                     const std::vector<double>& values);
  /// A matrix of counts as shaded cells (rows: true class, columns: predicted class).
  void add_matrix(const std::string& title, const std::vector<std::vector<double>>& matrix,
                  const std::string& row_label, const std::string& column_label);
  void add_json(const std::string& title, const Json& document);

  std::string html() const;
  /// Writes the report atomically.
  void write(const std::filesystem::path& path) const;

 private:
  std::string title_;
  std::string body_;
  int charts_ = 0;
};

/// Learning curves from per-epoch records ("train.loss", "valid.loss", and the monitored value when given).
void add_learning_curves(HtmlReport& report, const std::vector<std::map<std::string, double>>& history,
                         const std::string& monitor);

/// The plots of one head's predictions: for classification the ROC and precision-recall curves (two classes:
/// class 1 against the rest), calibration and the confusion matrix; where forward returns and dates are known, the
/// IC per date and the long-short equity curve with its drawdown.
void add_prediction_plots(HtmlReport& report, const std::string& title, const PredictionRows& rows,
                          const BacktestOptions& backtest = {});

}  // namespace finfuse::evaluation
