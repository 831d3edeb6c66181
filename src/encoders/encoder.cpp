#include "finfuse/encoders/encoder.h"

#include "finfuse/core/check.h"
#include "finfuse/core/shape.h"
#include "finfuse/encoders/cnn_encoder.h"
#include "finfuse/encoders/mlp_encoder.h"
#include "finfuse/encoders/pretrained.h"
#include "finfuse/encoders/rnn_encoder.h"
#include "finfuse/encoders/tcn_encoder.h"
#include "finfuse/encoders/transformer_encoder.h"

#include <fmt/format.h>

#include <type_traits>

namespace finfuse::encoders {
namespace {

// The "pretrained" key every built-in encoder takes (encoders/pretrained.h).
FieldInfo pretrained_field() {
  return FieldInfo{"pretrained", "object or null", Json(), FieldRule(),
                   "start from pretrained weights: {\"path\", \"format\": \"huggingface\", \"torchvision\", "
                   "\"weights\" or \"word_vectors\", \"strict\", \"prefix\"} (null: from the initialisation)"};
}

template <typename Impl, typename Options>
void add_builtin(EncoderRegistry& registry, const std::string& name) {
  auto fields = Options::fields();
  fields.push_back(pretrained_field());
  registry.add(name, [](const Config& options, const ModalitySpec& spec) -> std::shared_ptr<Encoder> {
    const auto source = options.find_child("pretrained");
    if (!source) {
      return std::make_shared<Impl>(Options::from_config(options), spec);
    }
    const auto pretrained = PretrainedOptions::from_config(*source);
    std::shared_ptr<Impl> encoder;
    if constexpr (std::is_same_v<Impl, TransformerEncoderImpl>) {
      if (pretrained.format() == "huggingface") {
        // The architecture comes from the model's config.json.
        const auto bert = read_huggingface_bert(pretrained.path());
        encoder = std::make_shared<Impl>(huggingface_encoder_options(options, bert, pretrained.path()), spec);
      }
    }
    if (!encoder) {
      encoder = std::make_shared<Impl>(Options::from_config(options), spec);
    }
    load_pretrained(*encoder, pretrained, *source);
    return encoder;
  }, std::move(fields));
}

void register_builtin_encoders(EncoderRegistry& registry) {
  add_builtin<MlpEncoderImpl, MlpEncoderOptions>(registry, "mlp");
  add_builtin<RnnEncoderImpl, RnnEncoderOptions>(registry, "rnn");
  add_builtin<TcnEncoderImpl, TcnEncoderOptions>(registry, "tcn");
  add_builtin<CnnEncoderImpl, CnnEncoderOptions>(registry, "cnn");
  add_builtin<TransformerEncoderImpl, TransformerEncoderOptions>(registry, "transformer");
  add_builtin<ResNetEncoderImpl, ResNetEncoderOptions>(registry, "resnet");
}

}  // namespace

std::int64_t Encoder::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& p : parameters()) {
    count += p.numel();
  }
  return count;
}

torch::Tensor Encoder::all_real(const torch::Tensor& tokens) {
  return torch::ones({tokens.size(0), tokens.size(1)},
                     torch::TensorOptions().dtype(torch::kBool).device(tokens.device()));
}

void Encoder::check_input(const torch::Tensor& values, bool integer_ids) const {
  std::vector<std::int64_t> expected = {-1};
  expected.insert(expected.end(), spec_.shape.begin(), spec_.shape.end());
  bool ok = values.defined() && values.dim() == static_cast<std::int64_t>(expected.size());
  for (std::size_t d = 1; ok && d < expected.size(); ++d) {
    ok = values.size(static_cast<std::int64_t>(d)) == expected[d];
  }
  const std::string want = fmt::format("[B, {}]", fmt::join(spec_.shape, ", "));
  FINFUSE_CHECK_SHAPE(ok, "encoder of modality '", spec_.name, "': expected input ", want, ", got ",
                      values.defined() ? shape_string(values.sizes()) : std::string("no tensor"));
  const bool is_integer = values.scalar_type() == torch::kInt64 || values.scalar_type() == torch::kInt32;
  FINFUSE_CHECK_SHAPE(is_integer == integer_ids, "encoder of modality '", spec_.name, "': expected ",
                      integer_ids ? "integer ids" : "floating-point values", ", got ", values.scalar_type());
}

EncoderRegistry& encoder_registry() {
  static EncoderRegistry registry("encoder", register_builtin_encoders);
  return registry;
}

std::shared_ptr<Encoder> make_encoder(const Config& options, const ModalitySpec& spec) {
  const std::string type = options.get<std::string>("type");
  if (!encoder_registry().contains(type)) {
    const auto known = encoder_registry().names();
    options.fail_at("type", fmt::format("unknown encoder '{}'{}; registered: {}", type, did_you_mean(type, known),
                                        quoted_list(known)));
  }
  return encoder_registry().create(type, options, spec);
}

}  // namespace finfuse::encoders
