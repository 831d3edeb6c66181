// The generated credit table (support/credit_data.h) as a dataset for trainer tests: 400 applicants, the first 300
// for training and the rest for validation, the numeric modality only.
#pragma once

#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/samples.h"
#include "support/credit_data.h"

#include <filesystem>
#include <memory>
#include <vector>

namespace finfuse::testing {

struct CreditDataset {
  std::shared_ptr<data::NumericTable> table;
  std::shared_ptr<const data::MultimodalDataset> dataset;
  std::vector<std::size_t> train;
  std::vector<std::size_t> valid;
};

/// Writes `dir`/credit.csv from `seed` and builds the dataset from it.
inline CreditDataset make_credit_dataset(const std::filesystem::path& dir, unsigned seed) {
  write_credit_csv(dir / "credit.csv", seed);
  data::NumericTableOptions table_options;
  table_options.kind = "static";
  table_options.entity_column = "id";
  table_options.label_column = "defaulted";
  CreditDataset out;
  out.table = std::make_shared<data::NumericTable>(data::NumericTable::load_csv(dir / "credit.csv", table_options));
  const auto samples = data::static_samples(*out.table);
  for (std::size_t i = 0; i < samples.samples.size(); ++i) {
    (i < 300 ? out.train : out.valid).push_back(i);
  }
  data::DatasetOptions options;
  options.modalities = {"numeric"};
  out.dataset = std::make_shared<const data::MultimodalDataset>(data::MultimodalDataset::build(
      samples, data::DataSources{nullptr, nullptr, {{"credit", out.table.get()}}}, options, out.train));
  return out;
}

}  // namespace finfuse::testing
