// A modality defined outside finfuse: chosen numeric columns of a source table, each replaced by the one-hot code of
// its quantile bin, with the bin edges fitted on the training samples only and stored in the bundle. One header, one
// source and one registry line (register_extension()).
#pragma once

#include <finfuse/core/options.h>
#include <finfuse/data/modality.h>

#include <cstdint>
#include <string>
#include <vector>

namespace extension {

/// The section dataset.quantile_bins.
struct QuantileBinsOptions {
#define EXTENSION_QUANTILE_BINS_FIELDS(F)                                                                        \
  F(std::string, table, "", ::finfuse::FieldRule::required(), "the source table")                               \
  F(std::vector<std::string>, columns, (std::vector<std::string>{}),                                             \
    ::finfuse::FieldRule().non_empty("must name at least one numeric column"), "the table's columns to bin")     \
  F(std::int64_t, bins, 8, ::finfuse::Range::closed(2, 100), "quantile bins per column")
  FINFUSE_OPTIONS(QuantileBinsOptions, EXTENSION_QUANTILE_BINS_FIELDS)
#undef EXTENSION_QUANTILE_BINS_FIELDS
};

class QuantileBinsModality : public finfuse::data::Modality {
 public:
  explicit QuantileBinsModality(QuantileBinsOptions options);

  void build(const finfuse::data::ModalityContext& context) override;
  /// "quantile_bins" [columns * bins]: one-hot per column, all zero for a missing value.
  std::vector<finfuse::data::ModalitySpec> specs() const override;
  void collate(const std::vector<std::size_t>& indices, finfuse::data::Batch& batch) const override;
  double coverage() const override { return finfuse::data::fraction_present(present_); }
  /// {"quantile_bins": {"columns": [...], "edges": [[...], ...]}}
  finfuse::Json fitted_state() const override;
  void save(finfuse::data::BinaryWriter& out) const override;
  void load(finfuse::data::BinaryReader& in, const finfuse::data::SampleList& samples) override;

  /// Per column, the bins - 1 inner edges, ascending.
  const std::vector<std::vector<double>>& edges() const { return edges_; }

 private:
  std::int64_t width() const;

  QuantileBinsOptions options_;
  std::vector<std::vector<double>> edges_;
  std::vector<float> codes_;  // [N, columns * bins]
  std::vector<std::uint8_t> present_;
};

}  // namespace extension
