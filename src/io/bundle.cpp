#include "finfuse/io/bundle.h"

#include "finfuse/core/check.h"
#include "finfuse/core/digest.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/shape.h"
#include "finfuse/io/format_version.h"
#include "finfuse/version.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>
#include <torch/version.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace finfuse::io {
namespace {

constexpr const char* kManifest = "manifest.json";

std::string now_utc() {
  const auto now = std::chrono::system_clock::now();
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(now)));
}

std::string weights_bytes(const models::MultimodalModel& model) {
  torch::serialize::OutputArchive archive;
  model->save(archive);
  std::string bytes;
  archive.save_to([&bytes](const void* data, std::size_t size) -> std::size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

// Files of a bundle by name, from a folder or an archive.
std::map<std::string, std::string> read_files(const std::filesystem::path& path) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(path.string(), "no such bundle folder or archive");
  }
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (entry.is_regular_file()) {
        const auto name = entry.path().filename().string();
        files[name] = read_file(entry.path(), "a bundle file");
      }
    }
    return files;
  }
  // Archives are sealed (size and SHA-256 verified before the zip reader sees a byte); archives written before
  // sealing existed are read as they are, their files still checked against the manifest.
  std::istringstream archive(read_sealed_file(path, "a bundle archive"));
  try {
    caffe2::serialize::PyTorchStreamReader reader(&archive);
    for (const auto& record : reader.getAllRecords()) {
      if (record == "version" || record == "byteorder" || record.rfind(".data/", 0) == 0) {  // the container's own
        continue;
      }
      auto [data, size] = reader.getRecord(record);
      files[record] = std::string(static_cast<const char*>(data.get()), size);
    }
  } catch (const c10::Error& e) {
    throw DataError(path.string(), 0, "", fmt::format("not a readable bundle archive: {}", e.what_without_backtrace()));
  }
  return files;
}

Json parse_json_file(const std::map<std::string, std::string>& files, const std::string& name,
                     const std::filesystem::path& bundle) {
  const auto it = files.find(name);
  if (it == files.end()) {
    throw IoError((bundle / name).string(), "missing from the bundle");
  }
  try {
    return Json::parse(it->second);
  } catch (const Json::exception& e) {
    throw DataError((bundle / name).string(), 0, "", fmt::format("not valid JSON: {}", e.what()));
  }
}

}  // namespace

Json modality_specs_json(const std::vector<encoders::ModalitySpec>& specs) {
  Json out = Json::array();
  for (const auto& s : specs) {
    out.push_back(Json{{"name", s.name}, {"shape", s.shape}, {"vocab_size", s.vocab_size},
                       {"cardinalities", s.cardinalities}});
  }
  return out;
}

std::vector<encoders::ModalitySpec> modality_specs_from_json(const Config& json) {
  std::vector<encoders::ModalitySpec> specs;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const Config s = json[i];
    specs.emplace_back(s.get<std::string>("name"), s.get<std::vector<std::int64_t>>("shape"),
                       s.get<std::int64_t>("vocab_size", 0), s.get<std::vector<std::int64_t>>("cardinalities", std::vector<std::int64_t>{}));
    s.reject_unknown_keys();
  }
  return specs;
}

std::vector<encoders::ModalitySpec> Bundle::modalities() const {
  return modality_specs_from_json(Config(config.at("modalities"), (source / "config.json").string()));
}

models::MultimodalModel Bundle::build_model(const c10::Device& device) const {
  models::MultimodalModel model(Config(config.at("model"), (source / "config.json").string()), modalities());
  // LibTorch's archive replaces each tensor whatever its shape; a weight of another shape is an error here.
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& p : model->named_parameters()) {
    shapes[p.key()] = p.value().sizes().vec();
  }
  for (const auto& b : model->named_buffers()) {
    shapes[b.key()] = b.value().sizes().vec();
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(weights.data(), weights.size(), device);
    model->load(archive);
  } catch (const c10::Error& e) {
    throw DataError((source / "weights.pt").string(), 0, "",
                    fmt::format("the weights do not fit the model: {}", e.what_without_backtrace()));
  }
  const auto check = [&](const std::string& name, const torch::Tensor& tensor) {
    if (tensor.sizes().vec() != shapes.at(name)) {
      throw DataError((source / "weights.pt").string(), 0, name,
                      fmt::format("the weights do not fit the model: shape {} where the model has {}",
                                  shape_string(tensor.sizes()), shape_string(shapes.at(name))));
    }
  };
  for (const auto& p : model->named_parameters()) {
    check(p.key(), p.value());
  }
  for (const auto& b : model->named_buffers()) {
    check(b.key(), b.value());
  }
  model->to(device);
  model->eval();
  model->set_entity_names(entities);
  return model;
}

BundleSource bundle_source(models::MultimodalModel model, const data::DataPipeline& pipeline) {
  BundleSource source;
  source.model = std::move(model);
  source.modalities = models::modality_specs(*pipeline.dataset());
  source.preprocessing = pipeline.dataset()->fitted();
  source.entities = pipeline.dataset()->entities();
  source.data = pipeline.config().to_json();
  source.graph = pipeline.graph();
  source.inputs = pipeline.config().input_files();
  return source;
}

Json write_bundle(const std::filesystem::path& dir, const BundleSource& source) {
  FINFUSE_CHECK(!source.model.is_empty(), "write_bundle: no model");
  std::map<std::string, std::string> files;
  files["config.json"] = Json{{"data", source.data},
                              {"training", source.training},
                              {"runtime", source.runtime},
                              {"model", source.model->config_json()},
                              {"modalities", modality_specs_json(source.modalities)}}
                             .dump(2);
  files["preprocessing.json"] = source.preprocessing.to_json().dump();
  files["entities.json"] = Json(source.entities).dump();
  files["metrics.json"] = source.metrics.dump(2);
  if (source.graph != nullptr) {
    Json edges = Json::array();
    for (const auto& e : source.graph->edges()) {
      edges.push_back(Json{{"source", e.source},
                           {"target", e.target},
                           {"relation", e.relation},
                           {"weight", e.weight},
                           {"start", e.start ? Json(e.start->to_string()) : Json(nullptr)},
                           {"end", e.end ? Json(e.end->to_string()) : Json(nullptr)},
                           {"available", e.available ? Json(e.available->to_string()) : Json(nullptr)}});
    }
    files["graph.json"] = Json{{"edges", edges}}.dump();
  }
  files["weights.pt"] = weights_bytes(source.model);
  Json inputs = Json::array();
  for (const auto& input : source.inputs) {
    std::error_code ec;
    inputs.push_back(Json{{"path", input.string()},
                          {"bytes", std::filesystem::file_size(input, ec)},
                          {"sha256", sha256_file(input)}});
  }
  Json checksums = Json::object();
  for (const auto& [name, bytes] : files) {
    checksums[name] = Json{{"sha256", sha256_hex(bytes)}, {"bytes", bytes.size()}};
  }
  const Json manifest{{"format", kBundleFormat.tag()},
                      {"finfuse_version", version()},
                      {"libtorch_version", TORCH_VERSION},
                      {"source_revision", FINFUSE_SOURCE_REVISION},
                      {"created", now_utc()},
                      {"training_seconds", source.training_seconds},
                      {"seed", source.seed},
                      {"deterministic", source.deterministic},
                      {"inputs", inputs},
                      {"files", checksums}};
  files[kManifest] = manifest.dump(2);

  // Written in full under a temporary name, then swapped into place.
  const auto parent = dir.parent_path().empty() ? std::filesystem::path(".") : dir.parent_path();
  std::filesystem::create_directories(parent);
  const auto temporary = temporary_path_for(dir);
  std::filesystem::create_directories(temporary);
  try {
    for (const auto& [name, bytes] : files) {
      write_file_atomically(temporary / name, bytes);
    }
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) {
      if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0) {
        throw IoError(dir.string(), fmt::format("cannot replace the existing bundle: {}", std::strerror(errno)));
      }
      std::filesystem::remove_all(temporary, ec);  // now the previous bundle
    } else {
      std::filesystem::rename(temporary, dir);
    }
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(temporary, ignored);
    throw;
  }
  logger()->info("bundle written to {}", dir.string());
  return manifest;
}

void write_bundle_archive(const std::filesystem::path& dir, const std::filesystem::path& archive) {
  const auto files = read_files(dir);
  FINFUSE_CHECK(files.count(kManifest) != 0, "write_bundle_archive: ", dir.string(), " is not a bundle (no manifest)");
  std::string zipped;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&zipped](const void* data, std::size_t size) {
      zipped.append(static_cast<const char*>(data), size);
      return size;
    });
    for (const auto& [name, bytes] : files) {
      writer.writeRecord(name, bytes.data(), bytes.size());
    }
    writer.writeEndOfFile();
  }
  write_sealed_file(archive, zipped);
}

namespace {

Bundle read_bundle_files(const std::filesystem::path& path, const std::map<std::string, std::string>& files) {
  Bundle bundle;
  bundle.source = path;
  bundle.manifest = parse_json_file(files, kManifest, path);
  const auto manifest_path = (path / kManifest).string();
  const std::string written_by = bundle.manifest.value("finfuse_version", std::string());
  kBundleFormat.check(bundle.manifest.value("format", std::string("?")), manifest_path, "format", written_by);
  if (written_by != version()) {
    logger()->info("bundle {} was written by finfuse {} (format {}), this is finfuse {}", path.string(), written_by,
                   bundle.manifest.value("format", std::string()), version());
  }
  if (bundle.manifest.value("libtorch_version", std::string()) != TORCH_VERSION) {
    logger()->warn("bundle {} was written with LibTorch {}, this is {}", path.string(),
                   bundle.manifest.value("libtorch_version", std::string("?")), TORCH_VERSION);
  }
  const Json& checksums = bundle.manifest.at("files");
  // Every file must be covered by a checksum: a manifest that lists fewer would let a damaged file through.
  for (const auto& [name, bytes] : files) {
    if (name != kManifest && !checksums.contains(name)) {
      throw DataError((path / name).string(), 0, "", "has no checksum in the manifest: the bundle is damaged");
    }
  }
  for (const auto& [name, expected] : checksums.items()) {
    const auto it = files.find(name);
    if (it == files.end()) {
      throw IoError((path / name).string(), "missing from the bundle");
    }
    if (it->second.size() != expected.at("bytes").get<std::size_t>()) {
      throw DataError((path / name).string(), 0, "",
                      fmt::format("has {} bytes, the manifest says {}: the file is truncated or damaged",
                                  it->second.size(), expected.at("bytes").get<std::size_t>()));
    }
    if (sha256_hex(it->second) != expected.at("sha256").get<std::string>()) {
      throw DataError((path / name).string(), 0, "", "its SHA-256 does not match the manifest: the file is damaged");
    }
  }
  bundle.config = parse_json_file(files, "config.json", path);
  bundle.metrics = parse_json_file(files, "metrics.json", path);
  bundle.preprocessing = data::FittedPreprocessing::from_json(
      Config(parse_json_file(files, "preprocessing.json", path), (path / "preprocessing.json").string()));
  bundle.entities = parse_json_file(files, "entities.json", path).get<std::vector<std::string>>();
  bundle.graph = files.count("graph.json") ? parse_json_file(files, "graph.json", path) : Json();
  const auto weights = files.find("weights.pt");
  if (weights == files.end()) {
    throw IoError((path / "weights.pt").string(), "missing from the bundle");
  }
  bundle.weights = weights->second;
  return bundle;
}

}  // namespace

Bundle read_bundle(const std::filesystem::path& path) {
  const auto files = read_files(path);
  try {
    return read_bundle_files(path, files);
  } catch (const Json::exception& e) {
    // A field of the manifest or another metadata file is missing or of the wrong type.
    throw DataError(path.string(), 0, "", fmt::format("damaged bundle metadata: {}", e.what()));
  }
}

}  // namespace finfuse::io
