#include "quantile_bins_modality.h"

#include <finfuse/core/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace extension {

QuantileBinsModality::QuantileBinsModality(QuantileBinsOptions options)
    : Modality("quantile_bins"), options_(std::move(options)) {}

std::int64_t QuantileBinsModality::width() const {
  return static_cast<std::int64_t>(options_.columns().size()) * options_.bins();
}

void QuantileBinsModality::build(const finfuse::data::ModalityContext& context) {
  const auto& table = context.table(options_.table(), name());
  std::vector<std::size_t> columns;
  for (const auto& column : options_.columns()) {
    const auto index = table.column_index(column);
    if (!index) {
      throw finfuse::Error(fmt::format("the quantile_bins modality: table '{}' ({}) has no numeric column '{}'",
                                       options_.table(), table.source(), column));
    }
    columns.push_back(*index);
  }
  // Every sample's values as of its decision (NaN where the row or the value is missing).
  const std::size_t n = context.size();
  const std::size_t f = columns.size();
  std::vector<double> raw(n * f, std::numeric_limits<double>::quiet_NaN());
  present_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (const auto row = context.joined_row(table, i)) {
      present_[i] = 1;
      for (std::size_t c = 0; c < f; ++c) {
        raw[i * f + c] = table.value(*row, columns[c]);
      }
    }
  }
  const auto bins = static_cast<std::size_t>(options_.bins());
  if (context.fitted != nullptr) {
    // A trained model's edges, for the same columns.
    const auto state = context.fitted->state().child("quantile_bins");
    if (state.get<std::vector<std::string>>("columns") != options_.columns()) {
      state.fail_at("columns", "the model was trained on other columns");
    }
    edges_ = state.get<std::vector<std::vector<double>>>("edges");
    if (edges_.size() != f || std::any_of(edges_.begin(), edges_.end(), [&](const auto& e) { return e.size() != bins - 1; })) {
      state.fail_at("edges", fmt::format("expected {} lists of {} edges", f, bins - 1));
    }
  } else {
    // Quantiles of the training samples' values alone.
    edges_.assign(f, {});
    for (std::size_t c = 0; c < f; ++c) {
      std::vector<double> values;
      for (auto i : context.train) {
        if (!std::isnan(raw[i * f + c])) {
          values.push_back(raw[i * f + c]);
        }
      }
      if (values.empty()) {
        throw finfuse::Error(fmt::format("the quantile_bins modality: no training sample has a value of column '{}'",
                                         options_.columns()[c]));
      }
      std::sort(values.begin(), values.end());
      for (std::size_t k = 1; k < bins; ++k) {
        edges_[c].push_back(values[k * (values.size() - 1) / bins]);
      }
    }
  }
  codes_.assign(n * f * bins, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < f; ++c) {
      const double v = raw[i * f + c];
      if (!std::isnan(v)) {
        const auto bin = static_cast<std::size_t>(std::upper_bound(edges_[c].begin(), edges_[c].end(), v) - edges_[c].begin());
        codes_[(i * f + c) * bins + bin] = 1.0f;
      }
    }
  }
}

std::vector<finfuse::data::ModalitySpec> QuantileBinsModality::specs() const {
  return {finfuse::data::ModalitySpec(name(), {width()})};
}

void QuantileBinsModality::collate(const std::vector<std::size_t>& indices, finfuse::data::Batch& batch) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  batch.modalities[name()] =
      finfuse::data::ModalityBatch{finfuse::data::gather_rows(codes_.data(), width(), indices, {b, width()}),
                                   torch::Tensor(), finfuse::data::gather_presence(&present_, indices)};
}

finfuse::Json QuantileBinsModality::fitted_state() const {
  return finfuse::Json{{"quantile_bins", {{"columns", options_.columns()}, {"edges", edges_}}}};
}

void QuantileBinsModality::save(finfuse::data::BinaryWriter& out) const {
  out.str(fitted_state().dump());
  out.vec(codes_);
  out.vec(present_);
}

void QuantileBinsModality::load(finfuse::data::BinaryReader& in, const finfuse::data::SampleList& samples) {
  const auto state = finfuse::Config::parse(in.str(), in.source()).child("quantile_bins");
  edges_ = state.get<std::vector<std::vector<double>>>("edges");
  codes_ = in.vec<float>();
  present_ = in.vec<std::uint8_t>();
  if (codes_.size() != samples.size() * static_cast<std::size_t>(width()) || present_.size() != samples.size() ||
      edges_.size() != options_.columns().size()) {
    in.inconsistent("quantile bins");
  }
}

}  // namespace extension
