// A batch of multimodal samples: named modality tensors with per-sample presence masks (a stock-day without tweets
// is a missing text modality, not an empty string), padding masks for sequences, targets and metadata.
#pragma once

#include <c10/core/Device.h>
#include <torch/types.h>

#include <map>
#include <string>

namespace finfuse::data {

struct ModalityBatch {
  /// The values: float features, or int64 token ids.
  torch::Tensor values;
  /// Padding mask for sequences ([B, T] or [B, N, T], 1 = real token); undefined for fixed-size inputs.
  torch::Tensor mask;
  /// [B] bool: whether the sample has this modality at all.
  torch::Tensor present;
};

struct Batch {
  std::map<std::string, ModalityBatch> modalities;
  /// [B] float: class index (as a float) or regression value.
  torch::Tensor target;
  /// [B] float: the raw forward return from the decision to the label's close (0 for samples without prices), for
  /// return heads of multi-task models and for backtests.
  torch::Tensor forward_return;
  /// [B] int64 entity index and [B] int32 decision day (days since 1970-01-01), for cross-sectional losses and
  /// metrics.
  torch::Tensor entity;
  torch::Tensor day;
  /// Relations among the batch's samples as of its decision day, for graph fusion: [2, E] int64 positions within the
  /// batch (source, target) and [E] float weights. Defined only for cross-sectional batches (one decision day) of a
  /// dataset built with a graph.
  torch::Tensor edge_index;
  torch::Tensor edge_weight;

  std::int64_t size() const { return target.defined() ? target.size(0) : 0; }
  /// A copy with every tensor on `device` (non-blocking where the source is pinned).
  Batch to(const c10::Device& device) const;
  /// A copy in page-locked host memory, from which copies to a GPU run asynchronously (needs a CUDA LibTorch).
  Batch pinned() const;
  /// Calls `f` on every defined tensor.
  template <typename F>
  void for_each_tensor(F&& f) const {
    for (const auto& [name, modality] : modalities) {
      for (const auto* t : {&modality.values, &modality.mask, &modality.present}) {
        if (t->defined()) {
          f(*t);
        }
      }
    }
    for (const auto* t : {&target, &forward_return, &entity, &day, &edge_index, &edge_weight}) {
      if (t->defined()) {
        f(*t);
      }
    }
  }
};

}  // namespace finfuse::data
