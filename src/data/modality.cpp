// The modality registry with the five built-in modalities, what a modality builds from, and the collation helpers
// modalities share.
#include "finfuse/data/modality.h"

#include "finfuse/core/check.h"
#include "finfuse/data/modalities/chart.h"
#include "finfuse/data/modalities/image.h"
#include "finfuse/data/modalities/intraday.h"
#include "finfuse/data/modalities/market.h"
#include "finfuse/data/modalities/numeric.h"
#include "finfuse/data/modalities/price.h"
#include "finfuse/data/modalities/text.h"

#include <fmt/format.h>

#include <algorithm>

namespace finfuse::data {

namespace {

template <typename M>
void add_builtin(ModalityRegistry& registry, const std::string& name) {
  registry.add(name, [](const DatasetOptions& options) -> std::shared_ptr<Modality> {
    return std::make_shared<M>(options);
  });
}

}  // namespace

ModalityRegistry& modality_registry() {
  static ModalityRegistry registry("modality", [](ModalityRegistry& r) {
    add_builtin<PriceModality>(r, "price");
    add_builtin<MarketModality>(r, "market");
    add_builtin<IntradayModality>(r, "intraday");
    add_builtin<TextModality>(r, "text");
    add_builtin<NumericModality>(r, "numeric");
    add_builtin<ChartModality>(r, "chart");
    add_builtin<ImageModality>(r, "image");
  });
  return registry;
}

bool is_builtin_modality(const std::string& name) {
  return name == "price" || name == "market" || name == "intraday" || name == "text" || name == "numeric" || name == "chart" || name == "image";
}

const std::string& ModalityContext::entity(std::size_t i) const {
  return samples.entities[static_cast<std::size_t>(samples.samples.entity(i))];
}

void ModalityContext::require_timed(const std::string& modality) const {
  FINFUSE_CHECK(samples.timed, "the '", modality, "' modality needs samples with decision times");
}

const NumericTable& ModalityContext::table(const std::string& name, const std::string& modality) const {
  std::vector<std::string> names;
  for (const auto& [source, table] : sources.tables) {
    if (source == name && table != nullptr) {
      FINFUSE_CHECK(table->kind() == "static" || samples.timed, "table '", name, "' of the '", modality,
                    "' modality is joined by time, but the samples carry no decision times");
      return *table;
    }
    names.push_back(source);
  }
  throw Error(fmt::format("the '{}' modality's table '{}' is not among the sources (they are {})", modality, name,
                          names.empty() ? std::string("none") : fmt::format("'{}'", fmt::join(names, "', '"))));
}

std::optional<std::size_t> ModalityContext::joined_row(const NumericTable& table, std::size_t i) const {
  if (table.kind() == "static") {
    return table.row_of(entity(i));
  }
  const auto row = table.row_as_of(table.kind() == "global" ? std::string() : entity(i), sample(i).time());
  // The lookahead guard of tables: a row is seen only from the instant it became available.
  if (row && sample(i).time() < table.available_at(*row)) {
    throw LookaheadError(fmt::format("table {}: the row of {} dated {} (line {}) became available at {}, after the "
                                     "decision at {} of sample {} that reads it",
                                     table.source(), entity(i), table.date(*row).to_string(), table.line(*row),
                                     table.available_at(*row).to_string(), sample(i).time().to_string(), i));
  }
  return row;
}

torch::Tensor gather_rows(const float* values, std::int64_t width, const std::vector<std::size_t>& indices,
                          std::vector<std::int64_t> shape) {
  torch::Tensor out = torch::empty(shape, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  for (std::size_t k = 0; k < indices.size(); ++k) {
    std::copy_n(values + indices[k] * static_cast<std::size_t>(width), width,
                dst + static_cast<std::int64_t>(k) * width);
  }
  return out;
}

torch::Tensor gather_pixels(const std::uint8_t* values, std::int64_t width, const std::vector<std::size_t>& indices,
                            std::vector<std::int64_t> shape) {
  torch::Tensor out = torch::empty(shape, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::uint8_t* src = values + indices[k] * static_cast<std::size_t>(width);
    float* row = dst + static_cast<std::int64_t>(k) * width;
    for (std::int64_t p = 0; p < width; ++p) {
      row[p] = static_cast<float>(src[p]) / 255.0f;
    }
  }
  return out;
}

torch::Tensor gather_presence(c10::ArrayRef<std::uint8_t> present, const std::vector<std::size_t>& indices) {
  torch::Tensor out = torch::ones({static_cast<std::int64_t>(indices.size())}, torch::kBool);
  if (!present.empty()) {
    bool* dst = out.data_ptr<bool>();
    for (std::size_t k = 0; k < indices.size(); ++k) {
      dst[k] = present[indices[k]] != 0;
    }
  }
  return out;
}

torch::Tensor gather_presence(const std::vector<std::uint8_t>* present, const std::vector<std::size_t>& indices) {
  return gather_presence(present == nullptr ? c10::ArrayRef<std::uint8_t>() : c10::ArrayRef<std::uint8_t>(*present),
                         indices);
}

double fraction_present(c10::ArrayRef<std::uint8_t> present) {
  if (present.empty()) {
    return 0.0;
  }
  return static_cast<double>(std::count_if(present.begin(), present.end(), [](std::uint8_t p) { return p != 0; })) /
         static_cast<double>(present.size());
}

}  // namespace finfuse::data
