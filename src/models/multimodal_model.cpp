#include "finfuse/models/multimodal_model.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/shape.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/time.h"

#include "../core/intra_op_threads.h"
#include "finfuse/fusion/concat_fusion.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <sstream>

namespace finfuse {

const std::vector<std::pair<models::ParallelEncoders, std::string>>& FieldCodec<models::ParallelEncoders>::names() {
  static const std::vector<std::pair<models::ParallelEncoders, std::string>> table = {
      {models::ParallelEncoders::never, "never"},
      {models::ParallelEncoders::always, "always"},
      {models::ParallelEncoders::automatic, "auto"}};
  return table;
}

models::ParallelEncoders FieldCodec<models::ParallelEncoders>::read(const Config& parent, const std::string& key) {
  if (parent.json().at(key).is_boolean()) {
    return parent.get<bool>(key) ? models::ParallelEncoders::always : models::ParallelEncoders::never;
  }
  return EnumFieldCodec::read(parent, key);
}

}  // namespace finfuse

namespace finfuse::models {

namespace {

std::string with_commas(std::int64_t n) {
  const std::string digits = std::to_string(n);
  const std::size_t first = digits.front() == '-' ? 1 : 0;
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > first && (digits.size() - i) % 3 == 0) {
      out.push_back(',');
    }
    out.push_back(digits[i]);
  }
  return out;
}

std::int64_t count_parameters(const torch::nn::Module& module) {
  std::int64_t count = 0;
  for (const auto& p : module.parameters()) {
    count += p.numel();
  }
  return count;
}

std::string batch_shape(const torch::Tensor& t) {
  if (!t.defined()) {
    return "-";
  }
  std::vector<std::string> dims = {"B"};
  for (std::int64_t d = 1; d < t.dim(); ++d) {
    dims.push_back(std::to_string(t.size(d)));
  }
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

}  // namespace

// --------------------------------------------------------------------------------------------------------- options

namespace {

// A modality as a fusion layer sees it: the width of its encoder's vector and of its tokens.
fusion::FusionModality fusion_modality(const std::string& name, const encoders::Encoder& encoder) {
  return fusion::FusionModality{name, encoder.output_size(), encoder.token_size() > 0, encoder.token_size()};
}

// Appends (name, module) to a list of named parts unless the name is empty or taken. `what` names the part in errors
// ("an encoder for modality", "a head").
template <typename Module>
void add_named(std::vector<std::pair<std::string, std::shared_ptr<Module>>>& parts, const std::string& name,
               std::shared_ptr<Module> module, const char* what) {
  if (name.empty()) {
    throw Error(fmt::format("MultimodalModelOptions: {} needs a name, got an empty one", what));
  }
  for (const auto& part : parts) {
    if (part.first == name) {
      throw Error(fmt::format("MultimodalModelOptions: the model already has {} '{}'", what, name));
    }
  }
  parts.emplace_back(name, std::move(module));
}

}  // namespace

MultimodalModelOptions& MultimodalModelOptions::encoder(const std::string& modality,
                                                        std::shared_ptr<encoders::Encoder> encoder) {
  add_named(encoders_, modality, std::move(encoder), "an encoder for modality");
  return *this;
}

MultimodalModelOptions& MultimodalModelOptions::fusion(std::shared_ptr<fusion::Fusion> fusion) {
  fusion_ = std::move(fusion);
  return *this;
}

MultimodalModelOptions& MultimodalModelOptions::head(const std::string& name, std::shared_ptr<Head> head) {
  add_named(heads_, name, std::move(head), "a head");
  return *this;
}

std::vector<fusion::FusionModality> MultimodalModelOptions::fusion_modalities() const {
  std::vector<fusion::FusionModality> out;
  for (const auto& [name, encoder] : encoders_) {
    if (!encoder) {
      throw Error(fmt::format("MultimodalModelOptions: the encoder of modality '{}' is empty", name));
    }
    out.push_back(fusion_modality(name, *encoder));
  }
  return out;
}

// ----------------------------------------------------------------------------------------------------------- model

void MultimodalModelImpl::begin() {
  encoder_dict_ = register_module("encoders", torch::nn::ModuleDict());
  missing_ = register_module("missing", std::make_shared<torch::nn::Module>());
}

void MultimodalModelImpl::add_encoder(const std::string& name, std::shared_ptr<encoders::Encoder> encoder) {
  if (!encoder) {
    throw Error(fmt::format("model: the encoder of modality '{}' is empty", name));
  }
  encoder_dict_->update({{name, encoder}});
  encoders_.push_back(encoder);
  modality_names_.push_back(name);
  missing_embeddings_.push_back(missing_->register_parameter(name, torch::randn({encoder->output_size()}) * 0.02));
}

void MultimodalModelImpl::set_fusion(std::shared_ptr<fusion::Fusion> fusion) {
  if (encoders_.empty()) {
    throw Error("model: it needs at least one encoder");
  }
  if (!fusion) {
    fusion = std::make_shared<fusion::ConcatFusionImpl>(fusion::ConcatFusionOptions(), current_fusion_modalities());
  }
  const auto& built_for = fusion->modalities();
  const auto expected = current_fusion_modalities();
  const auto describe = [](const std::vector<fusion::FusionModality>& list) {
    std::vector<std::string> parts;
    for (const auto& m : list) {
      const std::string tokens = m.has_tokens ? fmt::format(", tokens {}", m.tokens_width()) : std::string();
      parts.push_back(fmt::format("{} ({}{})", m.name, m.size, tokens));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
  };
  bool same = built_for.size() == expected.size();
  for (std::size_t m = 0; same && m < expected.size(); ++m) {
    same = built_for[m].name == expected[m].name && built_for[m].size == expected[m].size &&
           built_for[m].has_tokens == expected[m].has_tokens &&
           (!expected[m].has_tokens || built_for[m].tokens_width() == expected[m].tokens_width());
  }
  if (!same) {
    throw Error(fmt::format("model: the fusion layer was built for the modalities {}, but the encoders deliver {} "
                            "(build it for MultimodalModelOptions::fusion_modalities())",
                            describe(built_for), describe(expected)));
  }
  fusion_ = register_module("fusion", std::move(fusion));
  head_dict_ = register_module("heads", torch::nn::ModuleDict());
}

void MultimodalModelImpl::add_head(const std::string& name, std::shared_ptr<Head> head) {
  if (!head) {
    throw Error(fmt::format("model: head '{}' is empty", name));
  }
  if (head->in_features() != fusion_->output_size()) {
    throw Error(fmt::format("model: head '{}' reads vectors of width {}, the fusion layer delivers {}", name,
                            head->in_features(), fusion_->output_size()));
  }
  head->set_head_name(name);
  head_dict_->update({{name, head}});
  heads_.push_back(std::move(head));
}

void MultimodalModelImpl::set_behaviour(const MultimodalModelOptions& options) {
  // Through the declared fields: the same checks and messages as a configuration gets, and none of the parts kept.
  behaviour_ = MultimodalModelOptions::from_config(Config(options.to_json(), "model options"));
}

std::vector<fusion::FusionModality> MultimodalModelImpl::current_fusion_modalities() const {
  std::vector<fusion::FusionModality> out;
  for (std::size_t m = 0; m < encoders_.size(); ++m) {
    out.push_back(fusion_modality(modality_names_[m], *encoders_[m]));
  }
  return out;
}

MultimodalModelImpl::MultimodalModelImpl(MultimodalModelOptions options) {
  if (options.encoders().empty()) {
    throw Error("model: MultimodalModelOptions names no encoder");
  }
  if (options.heads().empty()) {
    throw Error("model: MultimodalModelOptions names no head");
  }
  set_behaviour(options);
  begin();
  for (const auto& [name, encoder] : options.encoders()) {
    add_encoder(name, encoder);
  }
  set_fusion(options.fusion());
  for (const auto& [name, head] : options.heads()) {
    add_head(name, head);
  }
}

MultimodalModelImpl::MultimodalModelImpl(const Config& config, const std::vector<encoders::ModalitySpec>& specs,
                                         const nn::LossContext& label_context) {
  const Config encoder_configs = config.child("encoders");
  if (!encoder_configs.is_object() || encoder_configs.size() == 0) {
    encoder_configs.fail("must map at least one modality to its encoder options");
  }
  std::vector<std::string> available;
  for (const auto& spec : specs) {
    available.push_back(spec.name);
  }
  // The order the fusion layer sees the modalities in: "modality_order" (written by config_json() of a model
  // assembled in C++), or the keys of "encoders".
  std::vector<std::string> order = encoder_configs.keys();
  if (config.contains("modality_order")) {
    auto given = config.get<std::vector<std::string>>("modality_order");
    auto sorted_given = given;
    auto sorted_keys = order;
    std::sort(sorted_given.begin(), sorted_given.end());
    std::sort(sorted_keys.begin(), sorted_keys.end());
    if (sorted_given != sorted_keys) {
      config.fail_at("modality_order", fmt::format("must list the modalities under /encoders ({}) once each, got {}",
                                                   quoted_list(order), quoted_list(given)));
    }
    order = std::move(given);
  }
  begin();
  for (const auto& name : order) {
    const auto spec = std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.name == name; });
    if (spec == specs.end()) {
      encoder_configs.fail_at(name, fmt::format("the data has no modality '{}'{}; it has {}", name,
                                                did_you_mean(name, available), quoted_list(available)));
    }
    add_encoder(name, encoders::make_encoder(encoder_configs.child(name), *spec));
  }
  for (const auto& name : available) {
    if (std::find(modality_names_.begin(), modality_names_.end(), name) == modality_names_.end()) {
      logger()->warn("model: the data's modality '{}' has no encoder under {} and is not used", name,
                     encoder_configs.pointer().empty() ? "/encoders" : encoder_configs.pointer());
    }
  }
  const auto fusion_config = config.find_child("fusion");
  set_fusion(fusion::make_fusion(fusion_config ? *fusion_config : Config(Json{{"type", "concat"}}),
                                 current_fusion_modalities()));
  const Config head_configs = config.child("heads");
  if (!head_configs.is_object() || head_configs.size() == 0) {
    head_configs.fail("must name at least one head, e.g. {\"direction\": {\"type\": \"classification\"}}");
  }
  for (const auto& name : head_configs.keys()) {
    add_head(name, make_head(head_configs.child(name), HeadContext{fusion_->output_size(), label_context}));
  }
  // The behaviour fields; every other key has been read by now, so what is left unknown is an error.
  behaviour_ = MultimodalModelOptions::from_config(config);
}

ModelOutput MultimodalModelImpl::forward(const data::Batch& batch) { return run(batch, {}); }

ModelOutput MultimodalModelImpl::forward(const data::Batch& batch, const std::vector<std::string>& masked) {
  for (const auto& name : masked) {
    FINFUSE_CHECK(std::find(modality_names_.begin(), modality_names_.end(), name) != modality_names_.end(),
                  "model: cannot mask modality '", name, "'; the model has ", quoted_list(modality_names_));
  }
  return run(batch, masked);
}

std::string MultimodalModelImpl::describe_sample(const data::Batch& batch, std::int64_t i) const {
  std::string entity = "?";
  if (batch.entity.defined()) {
    const auto index = batch.entity[i].item<std::int64_t>();
    entity = index >= 0 && index < static_cast<std::int64_t>(entity_names_.size())
                 ? "'" + entity_names_[static_cast<std::size_t>(index)] + "'"
                 : fmt::format("#{}", index);
  }
  const std::string day =
      batch.day.defined() ? data::Date(batch.day[i].item<std::int32_t>()).to_string() : std::string("?");
  return fmt::format("sample {} of the batch (entity {}, {})", i, entity, day);
}

namespace {

// Samples in a batch, whether or not it carries targets.
std::int64_t samples_in(const data::Batch& batch) {
  if (batch.target.defined()) {
    return batch.target.size(0);
  }
  for (const auto& [name, modality] : batch.modalities) {
    if (modality.values.defined() && modality.values.dim() > 0) {
      return modality.values.size(0);
    }
  }
  return 0;
}

}  // namespace

std::vector<encoders::EncoderOutput> MultimodalModelImpl::encode_all(const data::Batch& batch) {
  const std::size_t count = modality_names_.size();
  // Concurrent encoders draw dropout masks from the shared generator in whatever order they run, so training under
  // deterministic algorithms stays serial.
  if (count < 2 || behaviour_.parallel_encoders() == ParallelEncoders::never ||
      (is_training() && at::globalContext().deterministicAlgorithms())) {
    return encode_serially(batch);
  }
  if (behaviour_.parallel_encoders() == ParallelEncoders::always) {
    return encode_concurrently(batch);
  }
  // "auto": small forward-only batches (serving) run concurrently, where one encoder after another leaves cores idle;
  // training and large batches keep every intra-op thread for each encoder in turn.
  if (torch::GradMode::is_enabled() || samples_in(batch) > kConcurrentBatchLimit) {
    return encode_serially(batch);
  }
  return encode_concurrently(batch);
}

std::vector<encoders::EncoderOutput> MultimodalModelImpl::encode_serially(const data::Batch& batch) {
  std::vector<encoders::EncoderOutput> encoded(modality_names_.size());
  for (std::size_t m = 0; m < modality_names_.size(); ++m) {
    encoded[m] = encoders_[m]->encode(batch.modalities.at(modality_names_[m]));
  }
  return encoded;
}

std::vector<encoders::EncoderOutput> MultimodalModelImpl::encode_concurrently(const data::Batch& batch) {
  const std::size_t count = modality_names_.size();
  std::vector<encoders::EncoderOutput> encoded(count);
  // The encoders are independent: all but the first run as tasks of ATen's inter-op pool (which carries this
  // thread's grad and inference modes over), the first on this thread; errors are rethrown here. They share this
  // thread's intra-op threads: each gets an equal part, at least one, instead of every encoder asking for all cores.
  const int share = std::max(1, intra_op_threads() / static_cast<int>(count));
  std::vector<std::exception_ptr> errors(count);
  std::mutex mutex;
  std::condition_variable done;
  std::size_t pending = count - 1;
  for (std::size_t m = 1; m < count; ++m) {
    at::launch([&, m, share] {
      try {
        const ScopedIntraOpThreads threads(share);
        encoded[m] = encoders_[m]->encode(batch.modalities.at(modality_names_[m]));
      } catch (...) {
        errors[m] = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (--pending == 0) {
        done.notify_one();
      }
    });
  }
  try {
    const ScopedIntraOpThreads threads(share);
    encoded[0] = encoders_[0]->encode(batch.modalities.at(modality_names_[0]));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return pending == 0; });
  }
  for (const auto& error : errors) {
    if (error) {
      std::rethrow_exception(error);
    }
  }
  return encoded;
}

ModelOutput MultimodalModelImpl::run(const data::Batch& batch, const std::vector<std::string>& masked) {
  return fuse(encode(batch, masked));
}

fusion::FusionInput MultimodalModelImpl::encode(const data::Batch& batch) { return encode(batch, {}); }

fusion::FusionInput MultimodalModelImpl::encode(const data::Batch& batch, const std::vector<std::string>& masked) {
  fusion::FusionInput input;
  input.edge_index = batch.edge_index;
  input.edge_weight = batch.edge_weight;
  input.day = batch.day;
  std::vector<torch::Tensor> present;
  std::int64_t size = -1;
  for (std::size_t m = 0; m < modality_names_.size(); ++m) {
    const auto& name = modality_names_[m];
    const auto it = batch.modalities.find(name);
    if (it == batch.modalities.end()) {
      std::vector<std::string> has;
      for (const auto& [key, value] : batch.modalities) {
        has.push_back(key);
      }
      throw ShapeError(fmt::format("model: the batch has no modality '{}' (it has {})", name, quoted_list(has)));
    }
    const auto& values = it->second.values;
    FINFUSE_CHECK_SHAPE(values.defined() && values.dim() >= 1, "model: modality '", name, "' has no values");
    if (size < 0) {
      size = values.size(0);
    }
    FINFUSE_CHECK_SHAPE(values.size(0) == size, "model: modality '", name, "' has ", values.size(0),
                        " samples, modality '", modality_names_[0], "' ", size);
    present.push_back(it->second.present.defined()
                          ? it->second.present.to(torch::kBool)
                          : torch::ones({size}, values.options().dtype(torch::kBool)));
  }
  // Samples with nothing at all are an error (report the first by entity and date), unless the model is configured
  // to predict them from the learned "missing" embeddings alone.
  const auto any = torch::stack(present, 0).any(0);
  if (behaviour_.all_missing() == "error" && !any.all().item<bool>()) {
    const auto first = (~any).nonzero()[0][0].item<std::int64_t>();
    throw Error(fmt::format("model: {} has none of its modalities ({}) present", describe_sample(batch, first),
                            fmt::join(modality_names_, ", ")));
  }
  for (std::size_t m = 0; m < modality_names_.size(); ++m) {
    if (std::find(masked.begin(), masked.end(), modality_names_[m]) != masked.end()) {
      present[m] = torch::zeros_like(present[m]);
    }
  }
  if (is_training() && behaviour_.modality_dropout() > 0.0 && modality_names_.size() > 1) {
    std::vector<torch::Tensor> kept;
    for (auto& p : present) {
      kept.push_back(p.logical_and(torch::rand(p.sizes(), torch::TensorOptions().device(p.device())) >=
                                   behaviour_.modality_dropout()));
    }
    const auto survives = torch::stack(kept, 0).any(0);
    for (std::size_t m = 0; m < present.size(); ++m) {
      present[m] = torch::where(survives, kept[m], present[m]);
    }
  }
  const auto encoded_all = encode_all(batch);
  for (std::size_t m = 0; m < modality_names_.size(); ++m) {
    const auto& encoded = encoded_all[m];
    const auto keep = present[m].unsqueeze(1);
    fusion::ModalityFeatures features;
    features.pooled = torch::where(keep, encoded.pooled,
                                   missing_embeddings_[m].to(encoded.pooled.scalar_type()).unsqueeze(0));
    features.tokens = encoded.tokens;
    if (encoded.tokens.defined()) {
      features.token_mask = encoded.token_mask.to(torch::kBool).logical_and(keep);
    }
    features.present = present[m];
    input.modalities.push_back(std::move(features));
  }
  return input;
}

ModelOutput MultimodalModelImpl::fuse(const fusion::FusionInput& input) {
  FINFUSE_CHECK_SHAPE(input.modalities.size() == modality_names_.size(), "model: fuse() was given ",
                      input.modalities.size(), " modalities; the model has ", modality_names_.size(), " (",
                      quoted_list(modality_names_), ")");
  auto fused = fusion_->fuse(input);
  ModelOutput out;
  out.fused = fused.fused;
  out.inspection = std::move(fused.inspection);
  out.predictions = predict(fused.fused);
  return out;
}

std::map<std::string, torch::Tensor> MultimodalModelImpl::predict(const torch::Tensor& fused) {
  FINFUSE_CHECK_SHAPE(fused.dim() == 2 && fused.size(1) == fusion_->output_size(), "model: expected a fused vector [B, ",
                      fusion_->output_size(), "], got ", shape_string(fused.sizes()));
  std::map<std::string, torch::Tensor> predictions;
  for (auto& head : heads_) {
    predictions[head->head_name()] = head->forward(fused);
  }
  return predictions;
}

LossResult MultimodalModelImpl::loss(const ModelOutput& output, const data::Batch& batch) const {
  LossResult result;
  for (const auto& head : heads_) {
    const auto it = output.predictions.find(head->head_name());
    FINFUSE_CHECK(it != output.predictions.end(), "model loss: no prediction of head '", head->head_name(), "'");
    const auto loss = head->loss(it->second, head->target(batch).to(it->second.device()), batch.day);
    result.heads[head->head_name()] = loss;
    const auto weighted = loss * head->weight();
    result.total = result.total.defined() ? result.total + weighted : weighted;
  }
  return result;
}

std::vector<std::string> MultimodalModelImpl::head_names() const {
  std::vector<std::string> names;
  for (const auto& head : heads_) {
    names.push_back(head->head_name());
  }
  return names;
}

encoders::Encoder& MultimodalModelImpl::encoder(const std::string& modality) const {
  const auto it = std::find(modality_names_.begin(), modality_names_.end(), modality);
  FINFUSE_CHECK(it != modality_names_.end(), "model: no encoder for modality '", modality, "'; the model has ",
                quoted_list(modality_names_));
  return *encoders_[static_cast<std::size_t>(it - modality_names_.begin())];
}

Head& MultimodalModelImpl::head(const std::string& name) const {
  for (const auto& head : heads_) {
    if (head->head_name() == name) {
      return *head;
    }
  }
  throw Error(fmt::format("model: no head '{}'; the model has {}", name, quoted_list(head_names())));
}

std::int64_t MultimodalModelImpl::parameter_count() const { return count_parameters(*this); }

Json MultimodalModelImpl::config_json() const {
  Json encoders = Json::object();
  for (std::size_t m = 0; m < modality_names_.size(); ++m) {
    encoders[modality_names_[m]] = encoders_[m]->options_json();
  }
  Json heads = Json::object();
  for (const auto& head : heads_) {
    heads[head->head_name()] = head->options_json();
  }
  Json out = behaviour_.to_json();
  out["encoders"] = std::move(encoders);
  out["modality_order"] = modality_names_;
  out["fusion"] = fusion_->options_json();
  out["heads"] = std::move(heads);
  return out;
}

std::string MultimodalModelImpl::summary(const data::Batch& example) {
  const bool was_training = is_training();
  eval();
  torch::NoGradGuard no_grad;
  struct Row {
    std::string module;
    std::string output;
    std::int64_t parameters;
  };
  std::vector<Row> rows;
  for (std::size_t m = 0; m < modality_names_.size(); ++m) {
    const auto encoded = encoders_[m]->encode(example.modalities.at(modality_names_[m]));
    std::string output = batch_shape(encoded.pooled);
    if (encoded.tokens.defined()) {
      output += " + tokens " + batch_shape(encoded.tokens);
    }
    rows.push_back({fmt::format("encoders.{} ({})", modality_names_[m],
                                encoders_[m]->options_json().value("type", std::string("?"))),
                    output, count_parameters(*encoders_[m])});
  }
  rows.push_back({"missing", "-", count_parameters(*missing_)});
  const auto out = run(example, {});
  rows.push_back({fmt::format("fusion ({})", fusion_->options_json().value("type", std::string("?"))),
                  batch_shape(out.fused), count_parameters(*fusion_)});
  for (const auto& head : heads_) {
    const auto type = head->options_json().value("type", std::string("?"));
    rows.push_back({fmt::format("heads.{} ({})", head->head_name(), type),
                    batch_shape(out.predictions.at(head->head_name())), count_parameters(*head)});
  }
  train(was_training);
  std::size_t module_width = 6;
  std::size_t output_width = 6;
  for (const auto& row : rows) {
    module_width = std::max(module_width, row.module.size());
    output_width = std::max(output_width, row.output.size());
  }
  std::ostringstream table;
  table << fmt::format("{:<{}}  {:<{}}  {:>12}\n", "module", module_width, "output", output_width, "parameters");
  table << std::string(module_width + output_width + 16, '-') << "\n";
  for (const auto& row : rows) {
    table << fmt::format("{:<{}}  {:<{}}  {:>12}\n", row.module, module_width, row.output, output_width,
                         with_commas(row.parameters));
  }
  table << std::string(module_width + output_width + 16, '-') << "\n";
  table << fmt::format("{:<{}}  {:<{}}  {:>12}\n", "total", module_width, "", output_width,
                       with_commas(parameter_count()));
  return table.str();
}

// ----------------------------------------------------------------------------------------------------------- specs

std::vector<encoders::ModalitySpec> modality_specs(const data::MultimodalDataset& dataset) {
  return dataset.specs();
}

encoders::ModalitySpec modality_spec(const data::MultimodalDataset& dataset, const std::string& modality) {
  const auto specs = modality_specs(dataset);
  std::vector<std::string> names;
  for (const auto& spec : specs) {
    if (spec.name == modality) {
      return spec;
    }
    names.push_back(spec.name);
  }
  throw Error(fmt::format("the dataset has no modality '{}'{}; it has {}", modality, did_you_mean(modality, names),
                          quoted_list(names)));
}

}  // namespace finfuse::models
