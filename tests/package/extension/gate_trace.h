// A callback defined outside finfuse: records the feature_gate encoder's gates at the end of every epoch.
#pragma once

#include "feature_gate_encoder.h"

#include <finfuse/training/callback.h>
#include <finfuse/training/trainer.h>

#include <vector>

namespace extension {

class GateTrace : public finfuse::training::Callback {
 public:
  explicit GateTrace(std::string modality) : modality_(std::move(modality)) {}

  void on_epoch_end(finfuse::training::Trainer& trainer, const finfuse::training::EpochRecord&) override {
    auto& encoder = dynamic_cast<FeatureGateEncoderImpl&>(trainer.model()->encoder(modality_));
    gates_.push_back(encoder.gates().detach().cpu().clone());
  }
  std::string name() const override { return "gate_trace"; }

  /// One [F] tensor per epoch.
  const std::vector<torch::Tensor>& gates() const { return gates_; }

 private:
  std::string modality_;
  std::vector<torch::Tensor> gates_;
};

}  // namespace extension
