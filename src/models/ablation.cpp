#include "finfuse/models/ablation.h"

#include "finfuse/core/check.h"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

namespace finfuse::models {
namespace {

// Running sums for one pass: per head, the loss weighted by batch size, correct predictions, and the moments needed
// for a Pearson correlation.
struct HeadTotals {
  double loss = 0.0;
  double correct = 0.0;
  double n = 0.0;
  double sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0;
};

std::vector<double> evaluate(MultimodalModelImpl& model, const std::vector<std::string>& masked,
                             const std::function<bool(data::Batch&)>& next_batch, std::int64_t& samples) {
  const auto heads = model.head_names();
  std::vector<HeadTotals> totals(heads.size());
  samples = 0;
  data::Batch batch;
  while (next_batch(batch)) {
    const auto out = model.forward(batch, masked);
    const auto losses = model.loss(out, batch);
    const auto b = static_cast<double>(batch.size());
    samples += batch.size();
    for (std::size_t h = 0; h < heads.size(); ++h) {
      auto& t = totals[h];
      const auto& head = model.head(heads[h]);
      const auto prediction = out.predictions.at(heads[h]).to(torch::kCPU, torch::kFloat64);
      const auto target = head.target(batch).to(torch::kCPU);
      t.loss += losses.heads.at(heads[h]).item<double>() * b;
      t.n += b;
      if (head.is_classification()) {
        t.correct += prediction.argmax(1).eq(target).sum().item<double>();
      } else {
        const auto y = target.to(torch::kFloat64);
        t.sx += prediction.sum().item<double>();
        t.sy += y.sum().item<double>();
        t.sxx += (prediction * prediction).sum().item<double>();
        t.syy += (y * y).sum().item<double>();
        t.sxy += (prediction * y).sum().item<double>();
      }
    }
  }
  FINFUSE_CHECK(samples > 0, "modality ablation: no batches to evaluate");
  std::vector<double> values;
  for (std::size_t h = 0; h < heads.size(); ++h) {
    const auto& t = totals[h];
    values.push_back(t.loss / t.n);
    if (model.head(heads[h]).is_classification()) {
      values.push_back(t.correct / t.n);
    } else {
      const double cov = t.sxy / t.n - (t.sx / t.n) * (t.sy / t.n);
      const double vx = t.sxx / t.n - (t.sx / t.n) * (t.sx / t.n);
      const double vy = t.syy / t.n - (t.sy / t.n) * (t.sy / t.n);
      values.push_back(vx > 0.0 && vy > 0.0 ? cov / std::sqrt(vx * vy) : std::nan(""));
    }
  }
  return values;
}

}  // namespace

AblationResult modality_ablation(MultimodalModelImpl& model, const std::function<bool(data::Batch&)>& next_batch,
                                 const std::function<void()>& rewind) {
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  AblationResult result;
  for (const auto& head : model.head_names()) {
    result.metrics.push_back(head + ".loss");
    result.metrics.push_back(head + (model.head(head).is_classification() ? ".accuracy" : ".ic"));
  }
  result.masked.push_back("none");
  result.values.push_back(evaluate(model, {}, next_batch, result.samples));
  for (const auto& modality : model.modalities()) {
    rewind();
    std::int64_t samples = 0;
    result.masked.push_back(modality);
    result.values.push_back(evaluate(model, {modality}, next_batch, samples));
    FINFUSE_CHECK(samples == result.samples, "modality ablation: the batches changed between passes (", samples,
                  " samples, then ", result.samples, ")");
  }
  model.train(was_training);
  return result;
}

AblationResult modality_ablation(MultimodalModelImpl& model, const std::vector<data::Batch>& batches) {
  std::size_t next = 0;
  return modality_ablation(
      model,
      [&](data::Batch& batch) {
        if (next == batches.size()) {
          return false;
        }
        batch = batches[next++];
        return true;
      },
      [&] { next = 0; });
}

Json AblationResult::to_json() const {
  Json rows = Json::array();
  for (std::size_t r = 0; r < masked.size(); ++r) {
    Json value = Json::object();
    Json change = Json::object();
    for (std::size_t k = 0; k < metrics.size(); ++k) {
      value[metrics[k]] = std::isfinite(values[r][k]) ? Json(values[r][k]) : Json(nullptr);
      change[metrics[k]] = std::isfinite(delta(r, k)) ? Json(delta(r, k)) : Json(nullptr);
    }
    rows.push_back(Json{{"masked", masked[r]}, {"values", value}, {"delta", change}});
  }
  return Json{{"samples", samples}, {"metrics", metrics}, {"rows", rows}};
}

std::string AblationResult::table() const {
  std::size_t first = 6;
  for (const auto& m : masked) {
    first = std::max(first, m.size());
  }
  std::size_t width = 8;
  for (const auto& m : metrics) {
    width = std::max(width, m.size() + 10);
  }
  std::ostringstream out;
  out << fmt::format("{:<{}}", "masked", first);
  for (const auto& m : metrics) {
    out << fmt::format("  {:>{}}", m, width);
  }
  out << "\n";
  for (std::size_t r = 0; r < masked.size(); ++r) {
    out << fmt::format("{:<{}}", masked[r], first);
    for (std::size_t k = 0; k < metrics.size(); ++k) {
      const std::string cell = r == 0 ? fmt::format("{:.4f}", values[r][k])
                                      : fmt::format("{:.4f} ({:+.4f})", values[r][k], delta(r, k));
      out << fmt::format("  {:>{}}", cell, width);
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace finfuse::models
