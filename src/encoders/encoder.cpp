#include "finfuse/encoders/encoder.h"

#include "finfuse/core/check.h"
#include "finfuse/core/shape.h"
#include "finfuse/encoders/cnn_encoder.h"
#include "finfuse/encoders/mlp_encoder.h"
#include "finfuse/encoders/rnn_encoder.h"
#include "finfuse/encoders/tcn_encoder.h"
#include "finfuse/encoders/transformer_encoder.h"

#include <fmt/format.h>

namespace finfuse::encoders {
namespace {

template <typename Impl, typename Options>
void add_builtin(EncoderRegistry& registry, const std::string& name) {
  registry.add(name, [](const Config& options, const ModalitySpec& spec) -> std::shared_ptr<Encoder> {
    return std::make_shared<Impl>(Options::from_config(options), spec);
  }, Options::fields());
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
