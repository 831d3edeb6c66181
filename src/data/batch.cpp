#include "finfuse/data/batch.h"

namespace finfuse::data {
namespace {

// A copy of `batch` with `f` applied to every defined tensor.
template <typename F>
Batch transformed(const Batch& batch, F f) {
  const auto apply = [&](const torch::Tensor& t) { return t.defined() ? f(t) : t; };
  Batch out;
  for (const auto& [name, modality] : batch.modalities) {
    out.modalities[name] = ModalityBatch{apply(modality.values), apply(modality.mask), apply(modality.present)};
  }
  out.target = apply(batch.target);
  out.forward_return = apply(batch.forward_return);
  out.entity = apply(batch.entity);
  out.day = apply(batch.day);
  out.edge_index = apply(batch.edge_index);
  out.edge_weight = apply(batch.edge_weight);
  return out;
}

}  // namespace

Batch Batch::to(const c10::Device& device) const {
  return transformed(*this, [&](const torch::Tensor& t) { return t.to(device, /*non_blocking=*/t.is_pinned()); });
}

Batch Batch::pinned() const {
  return transformed(*this, [](const torch::Tensor& t) { return t.is_pinned() ? t : t.pin_memory(); });
}

}  // namespace finfuse::data
