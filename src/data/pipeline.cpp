#include "finfuse/data/pipeline.h"

#include "finfuse/core/check.h"
#include "finfuse/core/digest.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/version.h"

#include "finfuse/data/binary_io.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <numeric>
#include <map>

namespace finfuse::data {
namespace {

// "${VAR}/x.csv" -> the environment's VAR; relative results are anchored at `base_dir`.
std::filesystem::path resolve_path(const Config& config, const std::string& key, const std::filesystem::path& base_dir) {
  const std::string text = config.get<std::string>(key);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "${") == 0) {
      const auto close = text.find('}', i);
      if (close == std::string::npos) {
        config.fail_at(key, fmt::format("unterminated '${{' in \"{}\"", text));
      }
      const std::string name = text.substr(i + 2, close - i - 2);
      const char* value = std::getenv(name.c_str());
      if (value == nullptr || *value == '\0') {
        config.fail_at(key, fmt::format("the path \"{}\" uses ${{{}}}, which is not set in the environment", text, name));
      }
      out += value;
      i = close;
    } else {
      out += text[i];
    }
  }
  std::filesystem::path path(out);
  if (path.is_relative()) {
    path = base_dir / path;
  }
  return path.lexically_normal();
}

std::optional<Date> date_or_empty(const Config& config, const std::string& key, const std::string& text,
                                  bool required) {
  const auto date = field_date(config, key, text);
  if (!date && required) {
    config.fail_at(key, "required for a chronological split (a date \"YYYY-MM-DD\")");
  }
  return date;
}

}  // namespace

void SplitOptions::validate(const Config& config) {
  const bool chronological = kind == "chronological";
  const auto valid = date_or_empty(config, "valid_start", valid_start, chronological);
  const auto test = date_or_empty(config, "test_start", test_start, chronological);
  const auto end = date_or_empty(config, "test_end", test_end, false);
  if (valid && test && *test < *valid) {
    config.fail_at("test_start", fmt::format("must not be before valid_start ({})", valid->to_string()));
  }
  if (test && end && !(*test < *end)) {
    config.fail_at("test_end", fmt::format("must be after test_start ({})", test->to_string()));
  }
  valid_start = valid ? valid->to_string() : "";
  test_start = test ? test->to_string() : "";
  test_end = end ? end->to_string() : "";
  if (valid_fraction + test_fraction >= 1.0) {
    config.fail_at("test_fraction", "valid_fraction + test_fraction must leave samples to train on");
  }
}

DataConfig DataConfig::from_config(const Config& config, const std::filesystem::path& base_dir) {
  DataConfig c;
  if (const auto prices = config.find_child("prices")) {
    c.prices_path = resolve_path(*prices, "path", base_dir);
    c.prices = PriceCsvOptions::from_config(*prices);
  }
  if (const auto texts = config.find_child("texts")) {
    c.texts_path = resolve_path(*texts, "path", base_dir);
    c.texts = TextJsonlOptions::from_config(*texts);
  }
  if (const auto graph = config.find_child("graph")) {
    c.graph_path = resolve_path(*graph, "path", base_dir);
    c.graph_format = graph->get_choice("format", c.graph_format, {"edges", "sector_table"});
    c.graph = EdgeListOptions::from_config(*graph);
  }
  const Config tables = config.section("tables");
  for (const auto& name : tables.keys()) {
    const Config table = tables.child(name);
    c.tables.push_back(TableSource{name, resolve_path(table, "path", base_dir), NumericTableOptions::from_config(table)});
  }
  c.samples_from_table = config.get<std::string>("samples_from_table", c.samples_from_table);
  if (c.samples_from_table.empty() && !c.prices_path) {
    config.fail_at("prices", "samples come from a price panel unless samples_from_table names a static table");
  }
  if (!c.samples_from_table.empty()) {
    const auto it = std::find_if(c.tables.begin(), c.tables.end(),
                                 [&](const TableSource& t) { return t.name == c.samples_from_table; });
    if (it == c.tables.end() || it->options.kind != "static") {
      config.fail_at("samples_from_table", fmt::format("'{}' is not a static table under /tables", c.samples_from_table));
    }
  }
  c.assembly = AssemblyOptions::from_config(config.section("assembly"));
  if (c.assembly.label.kind == "column" &&
      std::none_of(c.tables.begin(), c.tables.end(),
                   [&](const TableSource& t) { return t.name == c.assembly.label.table; })) {
    config.child("assembly").child("label").fail_at(
        "table", fmt::format("'{}' is not a table under /tables", c.assembly.label.table));
  }
  c.split = SplitOptions::from_config(config.section("split"));
  c.dataset = DatasetOptions::from_config(config.section("dataset"));
  config.reject_unknown_keys();
  return c;
}

Json DataConfig::to_json() const {
  Json out = Json::object();
  if (prices_path) {
    out["prices"] = prices.to_json();
    out["prices"]["path"] = prices_path->string();
  }
  if (texts_path) {
    out["texts"] = texts.to_json();
    out["texts"]["path"] = texts_path->string();
  }
  if (graph_path) {
    out["graph"] = graph.to_json();
    out["graph"]["path"] = graph_path->string();
    out["graph"]["format"] = graph_format;
  }
  out["tables"] = Json::object();
  for (const auto& table : tables) {
    out["tables"][table.name] = table.options.to_json();
    out["tables"][table.name]["path"] = table.path.string();
  }
  out["samples_from_table"] = samples_from_table;
  out["assembly"] = assembly.to_json();
  out["split"] = split.to_json();
  out["dataset"] = dataset.to_json();
  return out;
}

namespace {

constexpr char kCacheMagic[8] = {'F', 'F', 'C', 'A', 'C', 'H', 'E', '1'};

}  // namespace

std::string DataPipeline::cache_key(const DataConfig& config) {
  Sha256 hash;
  hash.update(fmt::format("finfuse data cache {} format 4\n", version()));
  hash.update(config.to_json().dump());
  std::vector<std::filesystem::path> inputs;
  if (config.prices_path) {
    inputs.push_back(*config.prices_path);
  }
  if (config.texts_path) {
    inputs.push_back(*config.texts_path);
  }
  for (const auto& table : config.tables) {
    inputs.push_back(table.path);
  }
  for (const auto& path : inputs) {
    hash.update(path.string() + "\n" + sha256_file(path) + "\n");
  }
  return hash.hex_digest();
}

std::vector<std::filesystem::path> DataConfig::input_files() const {
  std::vector<std::filesystem::path> files;
  if (prices_path) {
    files.push_back(*prices_path);
  }
  if (texts_path) {
    files.push_back(*texts_path);
  }
  for (const auto& t : tables) {
    files.push_back(t.path);
  }
  if (graph_path) {
    files.push_back(*graph_path);
  }
  return files;
}

DataSources DataPipeline::load_sources(const NumericTable*& sample_table, const NumericTable*& label_table) {
  sample_table = nullptr;
  label_table = nullptr;
  if (config_.prices_path) {
    prices_ = std::make_shared<PricePanel>(PricePanel::load_csv(*config_.prices_path, config_.prices));
  }
  if (config_.texts_path) {
    texts_ = std::make_shared<TextCorpus>(TextCorpus::load_jsonl(*config_.texts_path, config_.texts));
  }
  if (config_.graph_path) {
    graph_ = std::make_shared<RelationGraph>(config_.graph_format == "sector_table"
                                                   ? RelationGraph::from_sector_table(*config_.graph_path)
                                                   : RelationGraph::load_edge_list(*config_.graph_path, config_.graph));
  }
  DataSources sources;
  sources.prices = prices_.get();
  sources.graph = graph_.get();
  sources.texts = texts_.get();
  for (const auto& table : config_.tables) {
    tables_.push_back(std::make_shared<NumericTable>(NumericTable::load_csv(table.path, table.options)));
    sources.tables.emplace_back(table.name, tables_.back().get());
    if (table.name == config_.samples_from_table) {
      sample_table = tables_.back().get();
    }
  }
  for (std::size_t t = 0; t < config_.tables.size(); ++t) {
    if (config_.tables[t].name == config_.assembly.label.table) {
      label_table = tables_[t].get();
    }
  }
  return sources;
}

DataPipeline DataPipeline::build_for_inference(const DataConfig& config, const FittedPreprocessing& fitted) {
  DataPipeline p;
  p.config_ = config;
  const NumericTable* sample_table = nullptr;
  const NumericTable* label_table = nullptr;
  const DataSources sources = p.load_sources(sample_table, label_table);
  if (!config.samples_from_table.empty()) {
    FINFUSE_CHECK(sample_table != nullptr, "no table '", config.samples_from_table, "' to take the samples from");
    p.samples_ = static_samples(*sample_table, SampleMode::inference);
  } else {
    FINFUSE_CHECK(p.prices_ != nullptr, "the data configuration names no prices to assemble samples from");
    p.samples_ = assemble_samples(*p.prices_, config.assembly, label_table, SampleMode::inference);
  }
  FINFUSE_CHECK(!p.samples_.samples.empty(), "the data yield no samples to predict");
  p.dataset_ = std::make_shared<const MultimodalDataset>(
      MultimodalDataset::build(p.samples_, sources, config.dataset, fitted));
  std::vector<std::size_t> all(p.samples_.samples.size());
  std::iota(all.begin(), all.end(), 0);
  p.split_.test = p.dataset_->usable_only(all);
  return p;
}

DataPipeline DataPipeline::build(const DataConfig& config, const std::filesystem::path& cache_dir) {
  std::filesystem::path cache_file;
  std::string key;
  if (!cache_dir.empty()) {
    key = cache_key(config);
    cache_file = cache_dir / fmt::format("dataset-{}.ffcache", key.substr(0, 24));
    std::error_code ec;
    if (std::filesystem::exists(cache_file, ec)) {
      try {
        const std::string bytes = read_file(cache_file, "a dataset cache file");
        const std::string source = cache_file.string();
        if (bytes.size() < sizeof(kCacheMagic) + 8 || bytes.compare(0, sizeof(kCacheMagic), kCacheMagic, sizeof(kCacheMagic)) != 0) {
          throw DataError(source, 0, "", "not a finfuse dataset cache");
        }
        BinaryReader head(std::string_view(bytes).substr(sizeof(kCacheMagic)), source);
        const Json header = Json::parse(head.str());
        const std::size_t header_end = sizeof(kCacheMagic) + head.position();
        const std::string_view payload = std::string_view(bytes).substr(header_end);
        if (header.value("key", "") != key || header.value("payload_bytes", std::uint64_t{0}) != payload.size() ||
            header.value("payload_sha256", "") != sha256_hex(payload)) {
          throw DataError(source, 0, "", "the checksum does not match: the file is damaged or incomplete");
        }
        BinaryReader r(payload, source);
        DataPipeline p;
        p.config_ = config;
        p.samples_.entities = r.strings();
        p.samples_.price_window = r.pod<std::int64_t>();
        p.samples_.samples = r.vec<Sample>();
        p.samples_.report = r.pod<AssemblyReport>();
        p.samples_.timed = r.pod<bool>();
        p.samples_.market = config.assembly.market;
        p.split_.train = r.vec<std::size_t>();
        p.split_.valid = r.vec<std::size_t>();
        p.split_.test = r.vec<std::size_t>();
        p.sources_report_ = Json::parse(r.str());
        p.dataset_ = std::make_shared<const MultimodalDataset>(MultimodalDataset::deserialize(r.str(), source));
        for (const auto* part : {&p.split_.train, &p.split_.valid, &p.split_.test}) {
          for (auto i : *part) {
            if (i >= p.samples_.samples.size()) {
              throw DataError(source, 0, "", "a split index is outside the samples");
            }
          }
        }
        p.from_cache_ = true;
        logger()->info("data loaded from cache {}", source);
        return p;
      } catch (const std::exception& e) {
        logger()->warn("ignoring the dataset cache {}: {}; rebuilding it", cache_file.string(), e.what());
      }
    }
  }

  DataPipeline p;
  p.config_ = config;
  const NumericTable* sample_table = nullptr;
  const NumericTable* label_table = nullptr;
  const DataSources sources = p.load_sources(sample_table, label_table);
  p.samples_ = sample_table != nullptr ? static_samples(*sample_table)
                                       : assemble_samples(*p.prices_, config.assembly, label_table);
  FINFUSE_CHECK(!p.samples_.samples.empty(), "the data configuration yields no samples");

  const SplitOptions& s = config.split;
  if (s.kind == "chronological") {
    p.split_ = chronological_split(p.samples_.samples, *parse_date(s.valid_start), *parse_date(s.test_start),
                                   s.test_end.empty() ? std::nullopt : parse_date(s.test_end));
  } else if (s.kind == "walk_forward" || s.kind == "purged_kfold") {
    const auto folds = s.kind == "walk_forward" ? walk_forward(p.samples_.samples, s.walk_forward)
                                                : purged_kfold(p.samples_.samples, s.folds, s.embargo_days * 86400);
    FINFUSE_CHECK(s.fold < static_cast<std::int64_t>(folds.size()), "split fold ", s.fold, " does not exist: the ",
                  s.kind, " split has ", folds.size(), " fold(s)");
    p.split_ = folds[static_cast<std::size_t>(s.fold)];
  } else if (s.kind == "random") {
    p.split_ = random_split(p.samples_, s.valid_fraction, s.test_fraction, s.seed);
  } else {
    p.split_ = stratified_split(p.samples_, s.valid_fraction, s.test_fraction, s.seed);
  }
  FINFUSE_CHECK(!p.split_.train.empty(), "the split leaves no training samples");
  p.dataset_ = std::make_shared<const MultimodalDataset>(
      MultimodalDataset::build(p.samples_, sources, config.dataset, p.split_.train));
  // Samples left out for missing values (impute: drop) leave every part of the split.
  for (auto* part : {&p.split_.train, &p.split_.valid, &p.split_.test}) {
    *part = p.dataset_->usable_only(*part);
  }
  FINFUSE_CHECK(!p.split_.train.empty(), "no training sample is left after dropping missing values");
  if (p.prices_) {
    p.sources_report_["prices"] = {{"rows", p.prices_->report().rows},
                                   {"missing_rows", p.prices_->report().missing_rows},
                                   {"bad_rows", p.prices_->report().bad_rows}};
  }
  if (p.texts_) {
    p.sources_report_["texts"] = {{"texts", p.texts_->report().texts},
                                  {"bad_records", p.texts_->report().bad_records}};
  }

  if (!cache_file.empty()) {
    BinaryWriter w;
    w.strings(p.samples_.entities);
    w.pod(p.samples_.price_window);
    w.vec(p.samples_.samples);
    w.pod(p.samples_.report);
    w.pod(p.samples_.timed);
    w.vec(p.split_.train);
    w.vec(p.split_.valid);
    w.vec(p.split_.test);
    w.str(p.sources_report_.dump());
    w.str(p.dataset_->serialize());
    const std::string payload = w.take();
    const Json header = {{"format", 1},
                         {"finfuse", version()},
                         {"key", key},
                         {"payload_bytes", payload.size()},
                         {"payload_sha256", sha256_hex(payload)}};
    BinaryWriter head;
    head.str(header.dump());
    const std::string head_bytes = head.take();
    std::error_code ec;
    std::filesystem::create_directories(cache_dir, ec);
    const std::filesystem::path tmp = cache_file.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(kCacheMagic, sizeof(kCacheMagic));
      out.write(head_bytes.data(), static_cast<std::streamsize>(head_bytes.size()));
      out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
      out.flush();
      if (!out) {
        logger()->warn("cannot write the dataset cache {}; continuing without it", tmp.string());
        std::filesystem::remove(tmp, ec);
        return p;
      }
    }
    std::filesystem::rename(tmp, cache_file, ec);
    if (ec) {
      logger()->warn("cannot move the dataset cache into place ({}); continuing without it", ec.message());
    } else {
      logger()->info("data cached in {} ({:.1f} MB)", cache_file.string(), static_cast<double>(payload.size()) / 1e6);
    }
  }
  return p;
}

Json DataPipeline::summary() const {
  Json out;
  out["samples"] = samples_.samples.size();
  out["entities"] = samples_.entities.size();
  out["assembly"] = {{"candidates", samples_.report.candidates},
                     {"short_history", samples_.report.short_history},
                     {"no_future", samples_.report.no_future},
                     {"dead_zone", samples_.report.dead_zone},
                     {"no_label", samples_.report.no_label}};
  const bool classes = config_.samples_from_table.empty() ? config_.assembly.label.is_classification() : true;
  const auto describe = [&](const std::vector<std::size_t>& part) {
    Json j;
    j["samples"] = part.size();
    if (part.empty()) {
      return j;
    }
    if (samples_.timed) {
      Date first = samples_.samples[part.front()].day;
      Date last = first;
      for (auto i : part) {
        first = std::min(first, samples_.samples[i].day);
        last = std::max(last, samples_.samples[i].day);
      }
      j["first_day"] = first.to_string();
      j["last_day"] = last.to_string();
    }
    if (classes) {
      std::map<std::string, std::int64_t> counts;
      for (auto i : part) {
        ++counts[fmt::format("{}", samples_.samples[i].target)];
      }
      j["classes"] = counts;
    } else {
      double mean = 0;
      for (auto i : part) {
        mean += samples_.samples[i].target;
      }
      j["target_mean"] = mean / static_cast<double>(part.size());
    }
    return j;
  };
  out["splits"] = {{"train", describe(split_.train)}, {"valid", describe(split_.valid)}, {"test", describe(split_.test)}};
  Json coverage = Json::object();
  for (const auto& m : config_.dataset.modalities) {
    coverage[m] = dataset_->coverage(m);
  }
  out["coverage"] = coverage;
  out["sources"] = sources_report_;
  return out;
}

}  // namespace finfuse::data
