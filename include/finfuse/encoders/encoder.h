// The encoder interface: one modality's batch (values with presence and padding masks) in, a pooled vector [B, D]
// out and, where the encoder has one, its token sequence [B, T, D] with a mask, for attention fusion. Encoders are
// created by name through the encoder registry from a JSON options object and the modality's specification.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/registry.h"
#include "finfuse/data/batch.h"
#include "finfuse/data/modality_spec.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace finfuse::encoders {

/// What an encoder needs to know about its modality to size itself (described by the dataset's modality).
using data::ModalitySpec;

struct EncoderOutput {
  /// [B, D]
  torch::Tensor pooled;
  /// [B, T, D'] and [B, T] bool (true = real token), when the encoder has a sequence; undefined otherwise. D' is
  /// the pooled width, except for image encoders, whose feature-map positions carry their channels.
  torch::Tensor tokens;
  torch::Tensor token_mask;
};

class Encoder : public torch::nn::Module {
 public:
  explicit Encoder(ModalitySpec spec) : spec_(std::move(spec)) {}

  /// Encodes one modality's batch. Throws ShapeError naming the modality and both shapes for a mismatch.
  virtual EncoderOutput encode(const data::ModalityBatch& input) = 0;
  /// D of the pooled output.
  virtual std::int64_t output_size() const = 0;
  /// Width of the token sequence encode() returns (0: the encoder returns no tokens). The pooled width for sequence
  /// encoders; an image encoder's tokens are feature-map positions carrying its channels.
  virtual std::int64_t token_size() const { return 0; }
  /// The encoder's fully resolved options, as its factory reads them (with "type").
  virtual Json options_json() const = 0;
  /// Its layers from the input up, each as the name prefixes of its parameters ({"embeddings."}, {"encoder.layer.0."},
  /// ...), for fine-tuning by layer; parameters under none of them sit above the last. Empty: one block.
  virtual std::vector<std::vector<std::string>> layers() const { return {}; }

  std::int64_t parameter_count() const;
  const ModalitySpec& spec() const { return spec_; }

 protected:
  /// Throws ShapeError unless `values` is [B, spec.shape...] holding integer ids or floating-point values.
  void check_input(const torch::Tensor& values, bool integer_ids) const;
  /// A [B, T] mask marking every position of `tokens` ([B, T, D]) as real.
  static torch::Tensor all_real(const torch::Tensor& tokens);

 private:
  ModalitySpec spec_;
};

using EncoderRegistry = Registry<std::shared_ptr<Encoder>(const Config& options, const ModalitySpec& spec)>;

/// The encoder registry. Built-ins: "mlp" (numeric features, with embeddings for categorical ids), "rnn" (LSTM/GRU
/// over price windows or token ids, with last/mean/max/attention pooling), "tcn" (temporal convolution network),
/// "transformer" (BERT-style, over token ids or over days), "cnn" (the Jiang-Kelly-Xiu chart CNN by default) and
/// "resnet" (ResNet-18/34).
EncoderRegistry& encoder_registry();

/// Creates the encoder named by options["type"] for `spec`; unknown types and keys are ConfigErrors at their path.
std::shared_ptr<Encoder> make_encoder(const Config& options, const ModalitySpec& spec);

}  // namespace finfuse::encoders
