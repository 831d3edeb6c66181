// The built dataset as bytes (the on-disk cache of DataPipeline) and back, with errors naming the cache file: the
// options, the samples, each modality's own bytes (Modality::save) and the relation graphs.
#include "finfuse/data/multimodal_dataset.h"

#include "finfuse/core/check.h"
#include "finfuse/data/binary_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace finfuse::data {

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
    w.str(modality->name());
    modality->save(w);
  }
  w.pod<std::uint64_t>(graphs_.size());
  for (const auto& [day, graph] : graphs_) {
    w.pod(day);
    w.vec(graph.source);
    w.vec(graph.target);
    w.vec(graph.weight);
  }
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
    if (r.str() != name) {
      r.inconsistent(fmt::format("the inputs of modality '{}' are not where the options put them", name));
    }
    std::shared_ptr<Modality> modality = modality_registry().create(name, ds.options_);
    modality->load(r, ds.samples_);
    ds.modalities_.push_back(std::move(modality));
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
