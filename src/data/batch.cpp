#include "finfuse/data/batch.h"

namespace finfuse::data {
namespace {

torch::Tensor moved(const torch::Tensor& t, const c10::Device& device) {
  return t.defined() ? t.to(device, /*non_blocking=*/t.is_pinned()) : t;
}

torch::Tensor pinned_copy(const torch::Tensor& t) { return t.defined() && !t.is_pinned() ? t.pin_memory() : t; }

}  // namespace

Batch Batch::to(const c10::Device& device) const {
  Batch out;
  for (const auto& [name, modality] : modalities) {
    out.modalities[name] = ModalityBatch{moved(modality.values, device), moved(modality.mask, device),
                                         moved(modality.present, device)};
  }
  out.target = moved(target, device);
  out.forward_return = moved(forward_return, device);
  out.entity = moved(entity, device);
  out.day = moved(day, device);
  out.edge_index = moved(edge_index, device);
  out.edge_weight = moved(edge_weight, device);
  return out;
}

Batch Batch::pinned() const {
  Batch out;
  for (const auto& [name, modality] : modalities) {
    out.modalities[name] =
        ModalityBatch{pinned_copy(modality.values), pinned_copy(modality.mask), pinned_copy(modality.present)};
  }
  out.target = pinned_copy(target);
  out.forward_return = pinned_copy(forward_return);
  out.entity = pinned_copy(entity);
  out.day = pinned_copy(day);
  out.edge_index = pinned_copy(edge_index);
  out.edge_weight = pinned_copy(edge_weight);
  return out;
}

}  // namespace finfuse::data
