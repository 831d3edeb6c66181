// The built dataset as bytes (the on-disk cache of DataPipeline) and back, with errors naming the cache file: the
// options, the samples, each modality's own bytes (Modality::save) and the relation graphs.
#include "finfuse/data/multimodal_dataset.h"

#include "finfuse/core/check.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/binary_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

namespace finfuse::data {
namespace {

// A modality's inputs in a dataset's bytes: its name, then what its save() writes.
void save_modality(BinaryWriter& w, const Modality& modality) {
  w.str(modality.name());
  modality.save(w);
}

// The modality `name` read back from where save_modality() wrote it, for a dataset of `samples`.
std::shared_ptr<Modality> load_modality(BinaryReader& r, const std::string& name, const DatasetOptions& options,
                                        const SampleList& samples) {
  if (r.str() != name) {
    r.inconsistent(fmt::format("the inputs of modality '{}' are not where the options put them", name));
  }
  std::shared_ptr<Modality> modality = modality_registry().create(name, options);
  modality->load(r, samples);
  return modality;
}

}  // namespace

std::string MultimodalDataset::serialize(bool with_samples) const {
  BinaryWriter w;
  serialize(w, with_samples);
  return w.take();
}

void MultimodalDataset::serialize(BinaryWriter& w, bool with_samples) const {
  w.str(options_.to_json().dump());
  w.strings(entities_);
  w.pod<std::uint8_t>(with_samples ? 1 : 0);
  if (with_samples) {
    samples_.save(w);
  } else {
    w.pod<std::uint64_t>(samples_.size());
  }
  for (const auto& modality : modalities_) {
    save_modality(w, *modality);
  }
  w.pod<std::uint64_t>(graphs_.size());
  for (const auto& [day, graph] : graphs_) {
    w.pod(day);
    w.vec(graph.source);
    w.vec(graph.target);
    w.vec(graph.weight);
  }
}

std::shared_ptr<const MappedFile> MultimodalDataset::Builder::spill(const std::filesystem::path& file) {
  FINFUSE_CHECK(!finished_, "MultimodalDataset::Builder::spill after finish");
  const auto& names = dataset_.options_.modalities;
  auto& modalities = dataset_.modalities_;
  std::vector<std::size_t> built;
  for (std::size_t m = 0; m < modalities.size(); ++m) {
    if (modalities[m] != nullptr) {
      built.push_back(m);
    }
  }
  if (built.empty()) {
    return nullptr;
  }
  std::error_code ec;
  std::shared_ptr<const MappedFile> mapped;
  try {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw IoError(file.string(), fmt::format("cannot open for writing: {}", std::strerror(errno)));
    }
    BinaryWriter w([&](std::string_view piece) { out.write(piece.data(), static_cast<std::streamsize>(piece.size())); });
    for (const auto m : built) {
      save_modality(w, *modalities[m]);
    }
    w.flush();
    out.close();
    if (!out) {
      throw IoError(file.string(), "write error");
    }
    mapped = std::make_shared<const MappedFile>(file, "a dataset's spill file");
  } catch (...) {
    std::filesystem::remove(file, ec);
    throw;
  }
  std::filesystem::remove(file, ec);  // the mapping keeps its pages
  // Read back in place, each modality whole before any is replaced.
  BinaryReader r(mapped->bytes(), file.string(), mapped);
  std::vector<std::shared_ptr<Modality>> reread;
  for (const auto m : built) {
    reread.push_back(load_modality(r, names[m], dataset_.options_, dataset_.samples_));
  }
  if (!r.done()) {
    throw DataError(file.string(), 0, "", "unexpected bytes after the spilled modalities");
  }
  for (std::size_t k = 0; k < built.size(); ++k) {
    modalities[built[k]] = std::move(reread[k]);
  }
  std::vector<std::string> moved;
  for (const auto m : built) {
    moved.push_back(names[m]);
  }
  logger()->info("dataset: the inputs of {} ({:.1f} MB) written out, read in place from the file from now on",
                 quoted_list(moved), static_cast<double>(mapped->size()) / 1e6);
  return mapped;
}

MultimodalDataset MultimodalDataset::deserialize(std::string_view bytes, const std::string& source,
                                                 std::optional<SampleList> samples,
                                                 std::shared_ptr<const void> owner) {
  BinaryReader r(bytes, source, std::move(owner));
  MultimodalDataset ds;
  ds.options_ = DatasetOptions::from_config(Config::parse(r.str(), source));
  ds.entities_ = r.strings();
  const bool with_samples = r.pod<std::uint8_t>() != 0;
  if (with_samples) {
    ds.samples_ = SampleList::load(r);
  } else {
    const auto count = r.pod<std::uint64_t>();
    if (!samples) {
      r.inconsistent("the bytes hold no samples and none were given");
    }
    if (samples->size() != count) {
      r.inconsistent(fmt::format("the dataset was built on {} samples, not the {} given", count, samples->size()));
    }
    ds.samples_ = std::move(*samples);
  }
  for (std::size_t i = 0; i < ds.samples_.size(); ++i) {
    if (ds.samples_.entity(i) < 0 || static_cast<std::size_t>(ds.samples_.entity(i)) >= ds.entities_.size()) {
      r.inconsistent("a sample's entity index");
    }
  }
  for (const auto& name : ds.options_.modalities) {
    ds.modalities_.push_back(load_modality(r, name, ds.options_, ds.samples_));
  }
  ds.find_unusable();
  const auto graph_days = r.pod<std::uint64_t>();
  for (std::uint64_t g = 0; g < graph_days; ++g) {
    const auto day = r.pod<std::int32_t>();
    GraphSnapshot graph;
    graph.source = r.vec<std::int64_t>();
    graph.target = r.vec<std::int64_t>();
    graph.weight = r.vec<float>();
    for (std::size_t e = 0; e < graph.source.size(); ++e) {
      if (graph.source.size() != graph.target.size() || graph.weight.size() != graph.source.size() ||
          graph.source[e] < 0 || graph.target[e] < 0 ||
          static_cast<std::size_t>(std::max(graph.source[e], graph.target[e])) >= ds.entities_.size()) {
        r.inconsistent("a graph edge");
      }
    }
    ds.graphs_[day] = std::move(graph);
  }
  if (!r.done()) {
    throw DataError(source, 0, "", "unexpected bytes after the dataset");
  }
  return ds;
}

}  // namespace finfuse::data
