// Building the dataset: every sample's inputs, modality by modality (each in src/data/modalities/), and the relation
// graph of each decision day; coverage and collation into batches. Options are in dataset_options.cpp, the cache
// format in dataset_cache.cpp.
#include "finfuse/data/multimodal_dataset.h"

#include "finfuse/core/check.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/market_clock.h"
#include "finfuse/data/modalities/numeric.h"
#include "finfuse/data/modalities/text.h"

#include <c10/util/Type.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <typeinfo>

namespace finfuse::data {

MultimodalDataset MultimodalDataset::build(const SampleSet& samples, const DataSources& sources,
                                           const DatasetOptions& options, const SampleIndices& train) {
  Builder builder(samples, options, train);
  for (const auto& name : options.modalities) {
    builder.add(name, sources);
  }
  return builder.finish(sources);
}

MultimodalDataset MultimodalDataset::build(const SampleSet& samples, const DataSources& sources,
                                           const DatasetOptions& options, const FittedPreprocessing& fitted) {
  Builder builder(samples, options, fitted);
  for (const auto& name : options.modalities) {
    builder.add(name, sources);
  }
  return builder.finish(sources);
}

FittedPreprocessing MultimodalDataset::fitted() const {
  FittedPreprocessing out;
  for (const auto& modality : modalities_) {
    out.merge(modality->fitted_state());
  }
  return out;
}

namespace {
const SampleIndices kNoTrainingSamples;
}  // namespace

MultimodalDataset::Builder::Builder(const SampleSet& samples, const DatasetOptions& options,
                                    const FittedPreprocessing& fitted)
    : Builder(samples, options, kNoTrainingSamples, &fitted) {}

MultimodalDataset::Builder::Builder(const SampleSet& samples, const DatasetOptions& options,
                                    const SampleIndices& train, const FittedPreprocessing* fitted)
    : samples_(samples), train_(train), fitted_(fitted) {
  MultimodalDataset& ds = dataset_;
  ds.options_ = options;
  ds.entities_ = samples.entities;
  ds.samples_ = samples.samples;
  const std::size_t n = ds.samples_.size();
  FINFUSE_CHECK(train_.empty() || train_.back() < n, "MultimodalDataset::build: training index ", train_.back(),
                " is outside the ", n, " samples");
  FINFUSE_CHECK(fitted != nullptr || !train_.empty() || n == 0,
                "MultimodalDataset::build: no training samples to fit preprocessing on");
  ds.modalities_.resize(options.modalities.size());
}

bool MultimodalDataset::Builder::has(const std::string& name) const {
  const auto& names = dataset_.options_.modalities;
  const auto it = std::find(names.begin(), names.end(), name);
  return it != names.end() && dataset_.modalities_[static_cast<std::size_t>(it - names.begin())] != nullptr;
}

void MultimodalDataset::Builder::add(const std::string& name, const DataSources& sources) {
  FINFUSE_CHECK(!finished_, "MultimodalDataset::Builder::add after finish");
  const DatasetOptions& options = dataset_.options_;
  const auto it = std::find(options.modalities.begin(), options.modalities.end(), name);
  FINFUSE_CHECK(it != options.modalities.end(), "MultimodalDataset::Builder: modality '", name,
                "' is not among the dataset's modalities ", quoted_list(options.modalities));
  auto& slot = dataset_.modalities_[static_cast<std::size_t>(it - options.modalities.begin())];
  FINFUSE_CHECK(slot == nullptr, "MultimodalDataset::Builder: modality '", name, "' is built already");
  const auto started = std::chrono::steady_clock::now();
  std::shared_ptr<Modality> modality = modality_registry().create(name, options);
  FINFUSE_CHECK(modality != nullptr, "the factory of modality '", name, "' returned nothing");
  FINFUSE_CHECK(modality->name() == name, "the factory of modality '", name, "' made a modality named '",
                modality->name(), "'");
  const ModalityContext context{samples_, sources, options, train_, fitted_};
  modality->build(context);
  slot = std::move(modality);
  logger()->debug("dataset: modality {} in {:.3f} s", name,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

MultimodalDataset MultimodalDataset::Builder::finish(const DataSources& sources) {
  FINFUSE_CHECK(!finished_, "MultimodalDataset::Builder::finish called twice");
  MultimodalDataset& ds = dataset_;
  const DatasetOptions& options = ds.options_;
  for (std::size_t m = 0; m < options.modalities.size(); ++m) {
    FINFUSE_CHECK(ds.modalities_[m] != nullptr, "MultimodalDataset::Builder::finish: modality '",
                  options.modalities[m], "' is not built");
  }
  finished_ = true;
  ds.find_unusable();

  if (options.graph.kind != "none") {
    FINFUSE_CHECK(samples_.timed, "a relation graph needs samples with decision days");
    const bool correlation = options.graph.kind == "correlation";
    FINFUSE_CHECK(!correlation || sources.prices != nullptr, "a correlation graph needs a price panel");
    FINFUSE_CHECK(correlation || sources.graph != nullptr, "graph kind 'edges' needs a relation graph source");
    const MarketClock clock(samples_.market);
    const std::vector<Date> calendar = correlation ? sources.prices->calendar() : std::vector<Date>();
    for (const auto& s : ds.samples_) {
      if (ds.graphs_.count(s.day.days()) != 0) {
        continue;
      }
      // The graph as of the decision instant (the same for every sample of the day): relations valid that day and
      // public by then, or correlations of closes known by then.
      ds.graphs_[s.day.days()] =
          correlation ? correlation_graph(*sources.prices, calendar, ds.entities_, s.time(), clock,
                                          options.graph.lookback, options.graph.threshold)
                      : sources.graph->snapshot(ds.entities_, s.day, s.time());
    }
  }

  logger()->info("dataset: {} samples; modalities {}", ds.samples_.size(), fmt::join(options.modalities, ", "));
  return std::move(ds);
}

void MultimodalDataset::find_unusable() {
  dropped_.clear();
  for (const auto& modality : modalities_) {
    for (std::size_t i = 0; i < samples_.size(); ++i) {
      if (!modality->usable(i)) {
        dropped_.resize(samples_.size(), 0);
        dropped_[i] = 1;
      }
    }
  }
}

const Modality* MultimodalDataset::find_modality(const std::string& name) const {
  for (const auto& modality : modalities_) {
    if (modality->name() == name) {
      return modality.get();
    }
  }
  return nullptr;
}

void MultimodalDataset::throw_no_modality(const std::string& name, const std::type_info& wanted) const {
  if (const auto* found = find_modality(name)) {
    throw Error(fmt::format("the dataset's modality '{}' is a {}, not a {}", name, c10::demangle(typeid(*found).name()),
                            c10::demangle(wanted.name())));
  }
  throw Error(fmt::format("the dataset has no modality '{}'{}; it has {}", name,
                          did_you_mean(name, options_.modalities), quoted_list(options_.modalities)));
}

std::vector<ModalitySpec> MultimodalDataset::specs() const {
  std::vector<ModalitySpec> out;
  for (const auto& modality : modalities_) {
    for (auto& spec : modality->specs()) {
      out.push_back(std::move(spec));
    }
  }
  std::sort(out.begin(), out.end(), [](const ModalitySpec& a, const ModalitySpec& b) { return a.name < b.name; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    FINFUSE_CHECK(out[i].name != out[i - 1].name, "two modalities produce the batch entry '", out[i].name, "'");
  }
  return out;
}

const std::optional<Tokenizer>& MultimodalDataset::tokenizer() const {
  static const std::optional<Tokenizer> none;
  const auto* text = dynamic_cast<const TextModality*>(find_modality("text"));
  return text != nullptr ? text->tokenizer() : none;
}

const std::optional<NumericPreprocessor>& MultimodalDataset::numeric_preprocessor() const {
  static const std::optional<NumericPreprocessor> none;
  const auto* numeric = dynamic_cast<const NumericModality*>(find_modality("numeric"));
  return numeric != nullptr ? numeric->preprocessor() : none;
}

const std::optional<CategoryEncoder>& MultimodalDataset::category_encoder() const {
  static const std::optional<CategoryEncoder> none;
  const auto* numeric = dynamic_cast<const NumericModality*>(find_modality("numeric"));
  return numeric != nullptr ? numeric->categories() : none;
}

double MultimodalDataset::coverage(const std::string& modality) const {
  if (samples_.empty()) {
    return 0.0;
  }
  if (const auto* found = find_modality(modality)) {
    return found->coverage();
  }
  for (const auto& m : modalities_) {
    for (const auto& spec : m->specs()) {
      if (spec.name == modality) {
        return m->coverage();
      }
    }
  }
  return 0.0;
}

std::vector<std::size_t> MultimodalDataset::usable_only(const std::vector<std::size_t>& indices) const {
  std::vector<std::size_t> out;
  out.reserve(indices.size());
  for (auto i : indices) {
    if (usable(i)) {
      out.push_back(i);
    }
  }
  return out;
}

Batch MultimodalDataset::collate(const std::vector<std::size_t>& indices) const {
  const auto b = static_cast<std::int64_t>(indices.size());
  for (auto i : indices) {
    FINFUSE_CHECK(i < samples_.size(), "MultimodalDataset::collate: index ", i, " is outside the ", samples_.size(),
                  " samples");
    FINFUSE_CHECK(usable(i), "MultimodalDataset::collate: sample ", i,
                  " was left out for a missing numeric value (impute: drop)");
  }
  Batch batch;
  for (const auto& modality : modalities_) {
    modality->collate(indices, batch);
  }
  std::vector<Date> days(indices.size());
  samples_.days_of(indices, days.data());
  if (!graphs_.empty() && b > 0) {
    const std::int32_t day = days[0].days();
    const bool one_day = std::all_of(days.begin(), days.end(), [&](Date d) { return d.days() == day; });
    if (one_day) {
      std::vector<std::int64_t> position(entities_.size(), -1);
      for (std::int64_t k = 0; k < b; ++k) {
        position[static_cast<std::size_t>(samples_.entity(indices[static_cast<std::size_t>(k)]))] = k;
      }
      const GraphSnapshot& graph = graphs_.at(day);
      std::vector<std::int64_t> source;
      std::vector<std::int64_t> target;
      std::vector<float> weight;
      for (std::size_t e = 0; e < graph.edges(); ++e) {
        const auto from = position[static_cast<std::size_t>(graph.source[e])];
        const auto to = position[static_cast<std::size_t>(graph.target[e])];
        if (from >= 0 && to >= 0) {
          source.push_back(from);
          target.push_back(to);
          weight.push_back(graph.weight[e]);
        }
      }
      const auto edges = static_cast<std::int64_t>(source.size());
      batch.edge_index = torch::empty({2, edges}, torch::kInt64);
      std::copy(source.begin(), source.end(), batch.edge_index.data_ptr<std::int64_t>());
      std::copy(target.begin(), target.end(), batch.edge_index.data_ptr<std::int64_t>() + edges);
      batch.edge_weight = torch::from_blob(weight.data(), {edges}, torch::kFloat32).clone();
    }
  }
  batch.target = torch::empty({b}, torch::kFloat32);
  batch.forward_return = torch::empty({b}, torch::kFloat32);
  batch.entity = torch::empty({b}, torch::kInt64);
  batch.day = torch::empty({b}, torch::kInt32);
  samples_.targets_of(indices, batch.target.data_ptr<float>());
  for (std::int64_t k = 0; k < b; ++k) {
    const std::size_t i = indices[static_cast<std::size_t>(k)];
    batch.forward_return.data_ptr<float>()[k] = samples_.forward_return(i);
    batch.entity.data_ptr<std::int64_t>()[k] = samples_.entity(i);
    batch.day.data_ptr<std::int32_t>()[k] = days[static_cast<std::size_t>(k)].days();
  }
  return batch;
}

}  // namespace finfuse::data
