#include "finfuse/data/batch.h"

namespace finfuse::data {
namespace {

torch::Tensor moved(const torch::Tensor& t, const c10::Device& device) {
  return t.defined() ? t.to(device, /*non_blocking=*/t.is_pinned()) : t;
}

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

}  // namespace finfuse::data
