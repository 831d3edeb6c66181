// A multimodal model: one encoder per modality (a ModuleDict keyed by modality name), a fusion layer, and one or more
// heads (several heads form a multi-task model with weighted losses). Presence masks flow from the batch through the
// encoders into the fusion: an absent modality's pooled vector is replaced by a learned "missing" embedding
// (attention fusions also mask it out), and modality dropout during training teaches the model to cope with gaps.
//
// Built from C++ modules, as LibTorch models are:
//
//   auto options = MultimodalModelOptions()
//                      .encoder("price", encoders::RnnEncoder(encoders::RnnEncoderOptions().hidden(32), price_spec))
//                      .encoder("numeric", my_encoder);                 // any Encoder, registered or not
//   options.fusion(fusion::GatedFusion(fusion::GatedFusionOptions().hidden(32), options.fusion_modalities()))
//       .head("direction", ClassificationHead(ClassificationHeadOptions(2), 32));
//   MultimodalModel model(options);
//
// or from configuration, through the registries:
//   {"encoders": {"price": {"type": "rnn", ...}, "text": {"type": "transformer", ...}},
//    "fusion": {"type": "gated", ...},                          (default {"type": "concat"})
//    "heads": {"direction": {"type": "classification", ...}},   (at least one)
//    "modality_dropout": 0.1,                                   (default 0)
//    "all_missing": "error",    a sample without any modality: "error", or "embedding" (the missing embeddings alone)
//    "parallel_encoders": "never"}  run the encoders concurrently on ATen's inter-op pool: "auto" (forward-only
//                                    batches of at most 16 samples), "always" / true, "never" / false
// config_json() of either writes the configuration that rebuilds it (for components the registries know).
// Parameter names read as encoders.<modality>.*, missing.<modality>, fusion.*, heads.<head>.*.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/batch.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/fusion/fusion.h"
#include "finfuse/models/head.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace finfuse::data {
class MultimodalDataset;
}

namespace finfuse::models {

/// Whether a model runs its modality encoders one after another (never), concurrently on ATen's inter-op pool
/// (always), or concurrently for forward-only batches of at most 16 samples (automatic, "auto" in configurations).
enum class ParallelEncoders { never, always, automatic };

}  // namespace finfuse::models

namespace finfuse {

/// "never", "always", "auto"; a configuration may also write true ("always") or false ("never").
template <>
struct FieldCodec<models::ParallelEncoders> : EnumFieldCodec<models::ParallelEncoders, FieldCodec<models::ParallelEncoders>> {
  static const std::vector<std::pair<models::ParallelEncoders, std::string>>& names();
  static std::string type_name() { return "string or bool"; }
  static models::ParallelEncoders read(const Config& parent, const std::string& key);
};

}  // namespace finfuse

namespace finfuse::models {

struct ModelOutput {
  /// Per head: logits [B, classes] or values [B].
  std::map<std::string, torch::Tensor> predictions;
  /// [B, D] the fused vector.
  torch::Tensor fused;
  /// The fusion layer's inspection values (gates, attention weights), per sample.
  std::map<std::string, torch::Tensor> inspection;
};

struct LossResult {
  /// Sum over heads of weight x loss.
  torch::Tensor total;
  /// Each head's unweighted loss.
  std::map<std::string, torch::Tensor> heads;
};

/// The parts of a model built in C++. Encoders are fused in the order they are added; without a fusion the model
/// concatenates the encoders' vectors (ConcatFusion with default options).
class MultimodalModelOptions {
 public:
  /// The encoder of `modality` (a batch modality of that name). Adding a modality twice is an error.
  MultimodalModelOptions& encoder(const std::string& modality, std::shared_ptr<encoders::Encoder> encoder);
  template <typename Impl>
  MultimodalModelOptions& encoder(const std::string& modality, const torch::nn::ModuleHolder<Impl>& holder) {
    return encoder(modality, std::static_pointer_cast<encoders::Encoder>(holder.ptr()));
  }
  MultimodalModelOptions& fusion(std::shared_ptr<fusion::Fusion> fusion);
  template <typename Impl>
  MultimodalModelOptions& fusion(const torch::nn::ModuleHolder<Impl>& holder) {
    return fusion(std::static_pointer_cast<fusion::Fusion>(holder.ptr()));
  }
  /// A head named `name` on the fused vector. Adding a name twice is an error.
  MultimodalModelOptions& head(const std::string& name, std::shared_ptr<Head> head);
  template <typename Impl>
  MultimodalModelOptions& head(const std::string& name, const torch::nn::ModuleHolder<Impl>& holder) {
    return head(name, std::static_pointer_cast<Head>(holder.ptr()));
  }

  // How the model behaves beyond its parts. from_config() and to_json() read and write these keys of a model's
  // configuration (the parts come from the registries, or are the modules added above).
#define FINFUSE_MULTIMODAL_MODEL_FIELDS(F)                                                                          \
  F(double, modality_dropout, 0.0, ::finfuse::Range::half_open(0, 1),                                              \
    "probability of dropping each present modality of a training sample (never a sample's last one)")              \
  F(std::string, all_missing, "error", ::finfuse::FieldRule::one_of({"error", "embedding"}),                       \
    "a sample without any modality: an error naming it, or a prediction from the learned missing embeddings alone") \
  F(ParallelEncoders, parallel_encoders, ParallelEncoders::never, {},                                              \
    "run the encoders concurrently on ATen's inter-op pool, dividing the intra-op threads among them: auto "       \
    "(forward-only batches of at most 16 samples), always (true) or never (false); see models.md")
  FINFUSE_OPTIONS(MultimodalModelOptions, FINFUSE_MULTIMODAL_MODEL_FIELDS)
#undef FINFUSE_MULTIMODAL_MODEL_FIELDS

 public:
  const std::vector<std::pair<std::string, std::shared_ptr<encoders::Encoder>>>& encoders() const { return encoders_; }
  const std::shared_ptr<fusion::Fusion>& fusion() const { return fusion_; }
  const std::vector<std::pair<std::string, std::shared_ptr<Head>>>& heads() const { return heads_; }
  /// What a fusion layer is built for: the encoders added so far, in order, with their widths.
  std::vector<fusion::FusionModality> fusion_modalities() const;

 private:
  std::vector<std::pair<std::string, std::shared_ptr<encoders::Encoder>>> encoders_;
  std::shared_ptr<fusion::Fusion> fusion_;
  std::vector<std::pair<std::string, std::shared_ptr<Head>>> heads_;
};

class MultimodalModelImpl : public torch::nn::Module {
 public:
  /// Assembles the model from C++ modules. Throws finfuse::Error when the parts do not fit together: no encoder or
  /// head, a missing module, a fusion built for other modalities or widths, a head that reads another width.
  explicit MultimodalModelImpl(MultimodalModelOptions options);

  /// Builds the model for the modalities in `specs`. Every modality named under "encoders" must be in `specs`
  /// (ConfigError at its key otherwise); modalities without an encoder are ignored with a warning. `label_context`
  /// gives heads that learn the label its training class counts (for "balanced" class weights).
  MultimodalModelImpl(const Config& config, const std::vector<encoders::ModalitySpec>& specs,
                      const nn::LossContext& label_context = {});

  /// Encodes, fuses and predicts. A sample with no modality present is an Error naming its entity and date. In
  /// training mode, modality dropout removes modalities at random (never the last one a sample has).
  ModelOutput forward(const data::Batch& batch);
  /// The same with `masked` modalities treated as absent for every sample (for ablations); samples left with nothing
  /// are fused from the missing embeddings alone.
  ModelOutput forward(const data::Batch& batch, const std::vector<std::string>& masked);

  /// forward() in its two halves, for training methods that work on a representation (adversarial training): the
  /// encoders' outputs with each sample's presence resolved (missing modalities replaced by their learned embeddings,
  /// modality dropout applied in training mode) as the fusion layer reads them ...
  fusion::FusionInput encode(const data::Batch& batch);
  fusion::FusionInput encode(const data::Batch& batch, const std::vector<std::string>& masked);
  /// ... and the fusion layer and every head on them. forward(batch) is fuse(encode(batch)).
  ModelOutput fuse(const fusion::FusionInput& input);
  /// Every head on a fused vector [B, D].
  std::map<std::string, torch::Tensor> predict(const torch::Tensor& fused);

  /// Each head's loss against its target, and their weighted sum.
  LossResult loss(const ModelOutput& output, const data::Batch& batch) const;

  /// A table of modules with their output shapes on `example` and parameter counts.
  std::string summary(const data::Batch& example);

  /// The fully resolved configuration (every encoder's, the fusion's and each head's options with defaults).
  Json config_json() const;
  /// Modalities in the order the fusion sees them.
  const std::vector<std::string>& modalities() const { return modality_names_; }
  std::vector<std::string> head_names() const;
  encoders::Encoder& encoder(const std::string& modality) const;
  fusion::Fusion& fusion() const { return *fusion_; }
  Head& head(const std::string& name) const;
  std::int64_t parameter_count() const;

  /// Entity names for error messages (the dataset's entities; indices are printed otherwise).
  void set_entity_names(std::vector<std::string> names) { entity_names_ = std::move(names); }

 private:
  // Assembly, shared by both constructors. A configured model draws its initial values in the order it always has:
  // each encoder, then its missing embedding; then the fusion layer and the heads.
  void begin();
  void add_encoder(const std::string& name, std::shared_ptr<encoders::Encoder> encoder);
  /// Null: concatenation. Checks that the layer was built for the encoders' modalities and widths.
  void set_fusion(std::shared_ptr<fusion::Fusion> fusion);
  /// Checks that the head reads the fusion layer's width.
  void add_head(const std::string& name, std::shared_ptr<Head> head);
  /// Takes the behaviour fields of `options` (not its parts), checked as a configuration would be.
  void set_behaviour(const MultimodalModelOptions& options);
  std::vector<fusion::FusionModality> current_fusion_modalities() const;
  ModelOutput run(const data::Batch& batch, const std::vector<std::string>& masked);
  /// Batches up to this size run their encoders concurrently under "parallel_encoders": "auto" when no gradient is
  /// recorded.
  static constexpr std::int64_t kConcurrentBatchLimit = 16;
  /// Every modality's encoder output, one after another or concurrently as "parallel_encoders" says.
  std::vector<encoders::EncoderOutput> encode_all(const data::Batch& batch);
  std::vector<encoders::EncoderOutput> encode_serially(const data::Batch& batch);
  std::vector<encoders::EncoderOutput> encode_concurrently(const data::Batch& batch);
  std::string describe_sample(const data::Batch& batch, std::int64_t i) const;

  std::vector<std::string> modality_names_;
  std::vector<std::shared_ptr<encoders::Encoder>> encoders_;
  torch::nn::ModuleDict encoder_dict_{nullptr};
  std::shared_ptr<torch::nn::Module> missing_;
  std::vector<torch::Tensor> missing_embeddings_;
  std::shared_ptr<fusion::Fusion> fusion_;
  torch::nn::ModuleDict head_dict_{nullptr};
  std::vector<std::shared_ptr<Head>> heads_;
  /// The behaviour fields only (no parts).
  MultimodalModelOptions behaviour_;
  std::vector<std::string> entity_names_;
};

TORCH_MODULE(MultimodalModel);

/// The specification of every modality a dataset builds (per-sample shapes, vocabulary size, categorical
/// cardinalities), read from the dataset itself.
std::vector<encoders::ModalitySpec> modality_specs(const data::MultimodalDataset& dataset);

/// The specification of one modality of the dataset (to build its encoder in C++). Throws finfuse::Error naming the
/// dataset's modalities when it has no `modality`.
encoders::ModalitySpec modality_spec(const data::MultimodalDataset& dataset, const std::string& modality);

}  // namespace finfuse::models
