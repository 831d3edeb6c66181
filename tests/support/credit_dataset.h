// The generated credit table (support/credit_data.h) as a dataset for trainer tests: 400 applicants, the first 300
// for training and the rest for validation, the numeric modality only.
#pragma once

#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/samples.h"
#include "support/credit_data.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
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

/// A fixture over the generated credit dataset, in a temporary folder of its own that is removed afterwards.
class CreditDatasetTest : public ::testing::Test {
 protected:
  CreditDatasetTest(std::string folder_prefix, unsigned seed) : prefix_(std::move(folder_prefix)), seed_(seed) {}

  void SetUp() override {
    dir_ = unique_temp_dir(prefix_);
    auto credit = make_credit_dataset(dir_, seed_);
    table_ = std::move(credit.table);
    dataset_ = std::move(credit.dataset);
    train_ = std::move(credit.train);
    valid_ = std::move(credit.valid);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::shared_ptr<data::NumericTable> table_;
  std::shared_ptr<const data::MultimodalDataset> dataset_;
  std::vector<std::size_t> train_;
  std::vector<std::size_t> valid_;

 private:
  std::string prefix_;
  unsigned seed_;
};

}  // namespace finfuse::testing
