// Warm start from a bundle, a checkpoint or a best.pt: tensors matched by name through the archive's module tree.
#include "finfuse/training/warm_start.h"

#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/shape.h"
#include "finfuse/io/bundle.h"
#include "finfuse/training/optimizer.h"
#include "finfuse/training/trainer.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <sstream>

namespace finfuse::training {
namespace {

// The weights of the source as a LibTorch archive of the model's module tree.
struct Source {
  std::filesystem::path file;
  std::string kind;
  torch::serialize::InputArchive archive;
};

bool is_bundle_archive(const std::string& payload) {
  try {
    std::istringstream stream(payload);
    caffe2::serialize::PyTorchStreamReader reader(&stream);
    return reader.hasRecord("manifest.json");
  } catch (const c10::Error&) {
    return false;
  }
}

void load_weights(torch::serialize::InputArchive& archive, const std::string& bytes, const std::filesystem::path& file,
                  const std::string& what) {
  try {
    archive.load_from(bytes.data(), bytes.size(), c10::Device(c10::DeviceType::CPU));
  } catch (const c10::Error& e) {
    throw DataError(file.string(), 0, "", fmt::format("not readable as {}: {}", what, e.what_without_backtrace()));
  }
}

void open_bundle(Source& source, const std::filesystem::path& path) {
  const auto bundle = io::read_bundle(path);
  source.file = path;
  source.kind = "bundle";
  load_weights(source.archive, bundle.weights, path / "weights.pt", "a bundle's weights");
}

// A checkpoint keeps the model under "model" next to its "state"; a best.pt is the model's archive itself.
void open_archive(Source& source, const std::filesystem::path& file, const std::string& payload) {
  source.file = file;
  torch::serialize::InputArchive archive;
  load_weights(archive, payload, file, "a checkpoint or weights file");
  c10::IValue state;
  torch::serialize::InputArchive model;
  if (archive.try_read("state", state) && archive.try_read("model", model)) {
    source.kind = "checkpoint";
    source.archive = std::move(model);
  } else {
    source.kind = "weights";
    source.archive = std::move(archive);
  }
}

Source open_source(const std::filesystem::path& path) {
  Source source;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (std::filesystem::exists(path / "manifest.json")) {
      open_bundle(source, path);
    } else if (const auto checkpoint = Trainer::latest_checkpoint(path)) {
      open_archive(source, *checkpoint, read_sealed_file(*checkpoint, "a checkpoint", /*accept_unsealed=*/false));
    } else if (std::filesystem::exists(path / "best.pt")) {
      open_archive(source, path / "best.pt", read_sealed_file(path / "best.pt", "a weights file", false));
    } else {
      throw IoError(path.string(), "holds no bundle (manifest.json), no complete checkpoint and no best.pt to start from");
    }
    return source;
  }
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(path.string(), "no such bundle, checkpoint or weights file to start from");
  }
  const auto payload = read_sealed_file(path, "a bundle or checkpoint");
  if (is_bundle_archive(payload)) {
    open_bundle(source, path);
  } else {
    open_archive(source, path, payload);
  }
  return source;
}

// The tensor `name` ("encoders.price.lstm.weight_ih_l0") of the archive's module tree, if it is there.
std::optional<torch::Tensor> find_tensor(torch::serialize::InputArchive& root, const std::string& name, bool buffer) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', start)) {
    parts.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  const std::string key = name.substr(start);
  // Sub-archives are read into a chain that keeps each level alive while the next is read from it.
  std::vector<torch::serialize::InputArchive> chain(parts.size());
  torch::serialize::InputArchive* at = &root;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!at->try_read(parts[i], chain[i])) {
      return std::nullopt;
    }
    at = &chain[i];
  }
  torch::Tensor tensor;
  if (!at->try_read(key, tensor, buffer) || !tensor.defined()) {
    return std::nullopt;
  }
  return tensor;
}

}  // namespace

WarmStartReport warm_start(torch::nn::Module& model, const WarmStartOptions& options) {
  auto source = open_source(options.path());
  WarmStartReport report;
  report.source = source.file;
  report.kind = source.kind;
  const auto selected = [&](const std::string& name) {
    return std::any_of(options.params().begin(), options.params().end(),
                       [&](const std::string& pattern) { return matches_pattern(pattern, name); });
  };
  torch::NoGradGuard no_grad;
  const auto take = [&](const std::string& name, torch::Tensor& target, bool buffer) {
    if (!selected(name)) {
      return;
    }
    const auto found = find_tensor(source.archive, name, buffer);
    std::string problem;
    if (!found) {
      problem = "is not in it";
    } else if (found->sizes() != target.sizes()) {
      problem = fmt::format("has shape {} there and {} in the model", shape_string(found->sizes()),
                            shape_string(target.sizes()));
    }
    if (problem.empty()) {
      target.copy_(*found);
      report.loaded.push_back(name);
    } else if (options.strict()) {
      throw DataError(source.file.string(), 0, name,
                      fmt::format("cannot warm-start from this {}: {} {}{}", source.kind, buffer ? "buffer" : "parameter",
                                  problem, " (set \"strict\": false to keep such tensors as initialised)"));
    } else {
      report.kept.push_back(name + " (" + problem + ")");
    }
  };
  for (auto& p : model.named_parameters()) {
    take(p.key(), p.value(), false);
  }
  for (auto& b : model.named_buffers()) {
    take(b.key(), b.value(), true);
  }
  if (report.loaded.empty() && report.kept.empty()) {
    throw ConfigError("/warm_start/params",
                      fmt::format("{} selects no parameter or buffer of the model", quoted_list(options.params())));
  }
  logger()->info("warm start: {} tensors from the {} {}{}", report.loaded.size(), report.kind, source.file.string(),
                 report.kept.empty() ? std::string()
                                     : fmt::format("; {} kept their initial values: {}", report.kept.size(),
                                                   fmt::join(report.kept, "; ")));
  return report;
}

}  // namespace finfuse::training
