#include "finfuse/data/pipeline.h"

#include "finfuse/core/check.h"
#include "finfuse/core/digest.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/runtime.h"
#include "finfuse/core/suggest.h"
#include "finfuse/version.h"

#include "finfuse/data/binary_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <type_traits>
#include <map>

#include <sys/stat.h>
#include <time.h>

namespace finfuse {

std::vector<data::TableSource> FieldCodec<std::vector<data::TableSource>>::read(const Config& parent,
                                                                                 const std::string& key) {
  const Config tables = parent.child(key);
  if (!tables.is_object()) {
    tables.fail("expected an object of named tables, {\"<name>\": {\"path\": ...}}");
  }
  std::vector<data::TableSource> out;
  for (const auto& name : tables.keys()) {
    auto table = data::Source<data::NumericTableOptions>::from_config(tables.child(name));
    out.push_back(data::TableSource{name, std::move(table.path), std::move(table.options)});
  }
  return out;
}

Json FieldCodec<std::vector<data::TableSource>>::write(const std::vector<data::TableSource>& tables) {
  Json out = Json::object();
  for (const auto& table : tables) {
    out[table.name] = data::Source<data::NumericTableOptions>{table.path, table.options}.to_json();
  }
  return out;
}

}  // namespace finfuse

namespace finfuse::data {
namespace {

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
  DataConfig c = from_config(config);
  // A WordPiece vocabulary file is a path like the sources' ("${VAR}" read from the environment, errors at its key).
  if (!c.dataset.tokenizer.vocab_file.empty()) {
    const auto tokenizer = config.child("dataset").child("tokenizer");
    c.dataset.tokenizer.vocab_file = FieldCodec<std::filesystem::path>::read(tokenizer, "vocab_file").string();
  }
  c.anchor_paths(base_dir);
  return c;
}

namespace {

// Every input file of a data configuration, in one list, so that anchoring, input_files() and the cache key (which
// hashes input_files()) cannot disagree about which files there are.
template <typename Data, typename F>
void for_each_path(Data& data, F&& f) {
  if (data.prices) {
    f(data.prices->path);
  }
  if (data.market) {
    f(data.market->path);
  }
  if (data.intraday) {
    f(data.intraday->path);
  }
  if (data.texts) {
    f(data.texts->path);
  }
  for (auto& table : data.tables) {
    f(table.path);
  }
  if (data.graph) {
    f(data.graph->path);
  }
  if (!data.dataset.tokenizer.vocab_file.empty()) {
    std::filesystem::path vocab = data.dataset.tokenizer.vocab_file;
    f(vocab);
    if constexpr (!std::is_const_v<Data>) {
      data.dataset.tokenizer.vocab_file = vocab.string();
    }
  }
  if (!data.assembly.market.calendar.file().empty()) {
    std::filesystem::path calendar = data.assembly.market.calendar.file();
    f(calendar);
    if constexpr (!std::is_const_v<Data>) {
      data.assembly.market.calendar.file(calendar);
    }
  }
}

}  // namespace

void DataConfig::anchor_paths(const std::filesystem::path& base_dir) {
  for_each_path(*this, [&](std::filesystem::path& path) {
    if (path.is_relative()) {
      path = base_dir / path;
    }
    path = path.lexically_normal();
  });
}

void DataConfig::validate(const Config& config) const {
  if (samples_from_table.empty() && !prices) {
    config.fail_at("prices", "samples come from a price panel unless samples_from_table names a static table");
  }
  if (!samples_from_table.empty()) {
    const auto it = std::find_if(tables.begin(), tables.end(),
                                 [&](const TableSource& t) { return t.name == samples_from_table; });
    if (it == tables.end() || it->options.kind != "static") {
      config.fail_at("samples_from_table", fmt::format("'{}' is not a static table under /tables", samples_from_table));
    }
  }
  if (assembly.label.kind == "column" &&
      std::none_of(tables.begin(), tables.end(), [&](const TableSource& t) { return t.name == assembly.label.table; })) {
    config.child("assembly").child("label").fail_at(
        "table", fmt::format("'{}' is not a table under /tables", assembly.label.table));
  }
}

namespace {

// A dataset cache file: this magic, the payload, then a trailer: the header (JSON: the key, the input files' hashes
// and fingerprints, the payload's size and SHA-256) and its length as 8 bytes. The trailer comes last so that the
// payload can be streamed to the file.
constexpr char kCacheMagic[8] = {'F', 'F', 'C', 'A', 'C', 'H', 'E', '3'};
constexpr const char* kCacheFormat = "finfuse data cache {} format 21\n";

// An input file's SHA-256 with the size and modification time it had when hashed (and when that was), so that a
// later open can tell an unchanged file without reading it again.
struct InputHash {
  std::filesystem::path path;
  std::uint64_t bytes = 0;
  std::int64_t modified_ns = 0;
  std::int64_t hashed_ns = 0;
  std::string sha256;
};

std::int64_t nanoseconds(const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }

// Stats `path` (before hashing it, so that a change while it is read shows as a newer time next time).
InputHash stat_input(const std::filesystem::path& path) {
  InputHash input;
  input.path = path;
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    throw IoError(path.string(), "no such file (an input of the data configuration)");
  }
  input.bytes = static_cast<std::uint64_t>(status.st_size);
  input.modified_ns = nanoseconds(status.st_mtim);
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  input.hashed_ns = nanoseconds(now);
  return input;
}

// Every input file's hash, taken from `known` (a cache header's "inputs") for a file whose size and modification time
// are those recorded there, and read again otherwise. A file modified less than two seconds before it was hashed is
// always read again: a second change within the timestamp's resolution would leave its time as it was.
std::vector<InputHash> input_hashes(const DataConfig& config, const Json& known = Json::array()) {
  std::vector<InputHash> out;
  for (const auto& path : config.input_files()) {
    InputHash input = stat_input(path);
    for (const auto& k : known) {
      if (k.is_object() && k.value("path", "") == path.string() && k.value("bytes", std::uint64_t{0}) == input.bytes &&
          k.value("modified_ns", std::int64_t{0}) == input.modified_ns &&
          input.modified_ns + 2000000000 <= k.value("hashed_ns", std::int64_t{0})) {
        input.hashed_ns = k.value("hashed_ns", std::int64_t{0});
        input.sha256 = k.value("sha256", "");
      }
    }
    if (input.sha256.empty()) {
      input.sha256 = sha256_file(path);
    }
    out.push_back(std::move(input));
  }
  return out;
}

std::string key_of(const DataConfig& config, const std::vector<InputHash>& inputs) {
  Sha256 hash;
  hash.update(fmt::format(kCacheFormat, version()));
  hash.update(config.to_json().dump());
  for (const auto& input : inputs) {
    hash.update(input.path.string() + "\n" + input.sha256 + "\n");
  }
  return hash.hex_digest();
}

Json inputs_json(const std::vector<InputHash>& inputs) {
  Json out = Json::array();
  for (const auto& input : inputs) {
    out.push_back({{"path", input.path.string()},
                   {"bytes", input.bytes},
                   {"modified_ns", input.modified_ns},
                   {"hashed_ns", input.hashed_ns},
                   {"sha256", input.sha256}});
  }
  return out;
}

// The header of a cache file's bytes after checking the magic and the trailer; `payload` receives the bytes between
// them. DataError naming the file otherwise.
Json cache_header(std::string_view bytes, const std::string& source, std::string_view& payload) {
  constexpr std::size_t kLength = sizeof(std::uint64_t);
  if (bytes.size() < sizeof(kCacheMagic) + kLength ||
      bytes.compare(0, sizeof(kCacheMagic), std::string_view(kCacheMagic, sizeof(kCacheMagic))) != 0) {
    throw DataError(source, 0, "", "not a finfuse dataset cache of this version");
  }
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data() + bytes.size() - kLength, kLength);
  if (header_size > bytes.size() - sizeof(kCacheMagic) - kLength) {
    throw DataError(source, 0, "", "the trailer is damaged: the file is damaged or incomplete");
  }
  const std::size_t header_start = bytes.size() - kLength - static_cast<std::size_t>(header_size);
  Json header = Json::parse(bytes.substr(header_start, static_cast<std::size_t>(header_size)), nullptr, false);
  payload = bytes.substr(sizeof(kCacheMagic), header_start - sizeof(kCacheMagic));
  if (!header.is_object() || !header.value("inputs", Json()).is_array() ||
      header.value("payload_bytes", std::uint64_t{0}) != payload.size()) {
    throw DataError(source, 0, "", "the trailer is damaged: the file is damaged or incomplete");
  }
  return header;
}

}  // namespace

std::string DataPipeline::cache_key(const DataConfig& config) { return key_of(config, input_hashes(config)); }

std::vector<std::filesystem::path> DataConfig::input_files() const {
  std::vector<std::filesystem::path> files;
  for_each_path(*this, [&](const std::filesystem::path& path) { files.push_back(path); });
  return files;
}

DataSources DataPipeline::load_sources(const NumericTable*& sample_table, const NumericTable*& label_table) {
  sample_table = nullptr;
  label_table = nullptr;
  if (config_.prices) {
    prices_ = std::make_shared<PricePanel>(PricePanel::load(config_.prices->path, config_.prices->options));
  }
  if (config_.market) {
    auto options = config_.market->options;
    if (options.default_symbol.empty()) {
      options.default_symbol = "market";
    }
    market_ = std::make_shared<PricePanel>(PricePanel::load(config_.market->path, options));
    if (market_->size() != 1) {
      throw DataError(config_.market->path.string(), 0, options.columns.symbol,
                      fmt::format("a market index file holds one instrument, this one {}: {}", market_->size(),
                                  quoted_list(market_->symbols())));
    }
  }
  // Bars on days the exchange had no session are left out before anything counts bars: windows, labels and the
  // market's series see sessions only.
  if (config_.samples_from_table.empty()) {
    if (prices_) {
      prices_ = std::make_shared<PricePanel>(sessions_only(std::move(*prices_), config_.assembly.market, &off_calendar_));
    }
    if (market_) {
      market_ = std::make_shared<PricePanel>(sessions_only(std::move(*market_), config_.assembly.market));
    }
  }
  if (config_.intraday) {
    intraday_ = std::make_shared<IntradayPanel>(IntradayPanel::load_csv(config_.intraday->path, config_.intraday->options));
  }
  if (config_.texts && !texts_later()) {
    texts_ = std::make_shared<TextCorpus>(load_texts());
  }
  if (config_.graph) {
    graph_ = std::make_shared<RelationGraph>(RelationGraph::load(config_.graph->path, config_.graph->options));
  }
  DataSources sources;
  sources.prices = prices_.get();
  sources.market = market_ ? &market_->series(market_->symbols().front()) : nullptr;
  sources.graph = graph_.get();
  sources.texts = texts_.get();
  sources.intraday = intraday_.get();
  for (const auto& table : config_.tables) {
    tables_.push_back(std::make_shared<NumericTable>(NumericTable::load(table.path, table.options)));
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

TextCorpus DataPipeline::load_texts() const {
  const TextJsonlOptions& options = config_.texts->options;
  if (options.hold_texts) {
    return TextCorpus::load(config_.texts->path, options);
  }
  // The corpus keeps the texts' times only; the text modality reads the texts again from the file to fit its
  // vocabulary and encode them, so that the build never holds every text at once.
  if (config_.dataset.text_layout != "per_text") {
    throw Error(fmt::format("data.texts.hold_texts false needs dataset.text_layout \"per_text\" (\"{}\" joins each "
                            "sample's texts, which must then be held)",
                            config_.dataset.text_layout));
  }
  return TextCorpus::load_times(config_.texts->path, options);
}

bool DataPipeline::builtin_modalities_only() const {
  const auto& names = config_.dataset.modalities;
  return std::all_of(names.begin(), names.end(), [](const std::string& name) { return is_builtin_modality(name); });
}

bool DataPipeline::texts_later() const {
  return config_.texts && config_.dataset.uses("text") && builtin_modalities_only();
}

bool DataPipeline::price_modality_reads_prices_last() const {
  const DatasetOptions& options = config_.dataset;
  return prices_ != nullptr && options.uses("price") && !options.uses("market") && !options.uses("chart") &&
         options.graph.kind != "correlation" && builtin_modalities_only();
}

std::shared_ptr<const MultimodalDataset> DataPipeline::build_dataset(DataSources sources,
                                                                     const SampleIndices& train,
                                                                     const FittedPreprocessing* fitted,
                                                                     bool keep_prices,
                                                                     const std::filesystem::path& spill_file) {
  const DatasetOptions& options = config_.dataset;
  const bool later = texts_later();
  // The price modality takes each entity's series out of the panel as it makes the entity's bars, when nothing
  // after it reads the panel and prices() is not to hold it: the panel and the bars are never held side by side.
  const bool release_prices = (later || !keep_prices) && price_modality_reads_prices_last();
  if (release_prices) {
    sources.prices_to_release = prices_.get();
  }
  MultimodalDataset::Builder builder(*samples_, options, train, fitted);
  for (const auto& name : options.modalities) {
    if (!(later && name == "text")) {
      builder.add(name, sources);
    }
  }
  if (release_prices) {
    prices_.reset();  // what the price modality left of it: the series of entities without samples
    sources.prices = nullptr;
    sources.prices_to_release = nullptr;
  }
  if (later) {
    // Every modality that reads bars is built: the bars go before the texts come.
    if (options.graph.kind != "correlation") {
      prices_.reset();
      sources.prices = nullptr;
    }
    market_.reset();
    sources.market = nullptr;
    intraday_.reset();  // the intraday modality shares the bars it needs
    sources.intraday = nullptr;
    if (!spill_file.empty()) {
      // The bars go to the file, read from there in place: the texts' stage holds none of them.
      try {
        spill_ = builder.spill(spill_file);
      } catch (const std::exception& e) {
        logger()->warn("cannot write the built inputs to {} ({}); keeping them in memory", spill_file.string(),
                       e.what());
      }
    }
    return_freed_memory();
    texts_ = std::make_shared<TextCorpus>(load_texts());
    sources.texts = texts_.get();
    // The text modality is the corpus's last reader: a corpus of times lets them go once the windows are found.
    if (!texts_->holds_texts()) {
      sources.texts_to_release = texts_.get();
    }
    builder.add("text", sources);
    sources.texts_to_release = nullptr;
  }
  if (texts_) {
    sources_report_["texts"] = {{"texts", texts_->report().texts}, {"bad_records", texts_->report().bad_records}};
  }
  if (later) {
    // The text modality holds the token ids it needs: the corpus goes before the dataset is finished.
    texts_.reset();
    sources.texts = nullptr;
    return_freed_memory();
  }
  auto dataset = std::make_shared<const MultimodalDataset>(builder.finish(sources));
  if (!keep_prices && prices_ != nullptr) {
    prices_.reset();  // every reader of the panel is built
    return_freed_memory();
  }
  return dataset;
}

DataPipeline DataPipeline::build_for_inference(const DataConfig& config, const FittedPreprocessing& fitted) {
  DataPipeline p;
  p.config_ = config;
  const NumericTable* sample_table = nullptr;
  const NumericTable* label_table = nullptr;
  const DataSources sources = p.load_sources(sample_table, label_table);
  if (!config.samples_from_table.empty()) {
    FINFUSE_CHECK(sample_table != nullptr, "no table '", config.samples_from_table, "' to take the samples from");
    p.samples_ = std::make_shared<SampleSet>(static_samples(*sample_table, SampleMode::inference));
  } else {
    FINFUSE_CHECK(p.prices_ != nullptr, "the data configuration names no prices to assemble samples from");
    p.samples_ = std::make_shared<SampleSet>(assemble_samples(*p.prices_, config.assembly, label_table, SampleMode::inference));
    p.samples_->report.off_calendar = p.off_calendar_;
  }
  FINFUSE_CHECK(!p.samples_->samples.empty(), "the data yield no samples to predict");
  p.dataset_ = p.build_dataset(sources, {}, &fitted, config.keep_prices);
  const MultimodalDataset& dataset = *p.dataset_;
  for (std::size_t i = 0; i < dataset.size(); ++i) {
    if (dataset.usable(i)) {
      p.split_.test.push_back(i);
    }
  }
  p.release_sources();
  return_freed_memory();
  return p;
}

void DataPipeline::release_sources() {
  texts_.reset();
  intraday_.reset();  // the intraday modality shares the bars it needs
  market_.reset();
  tables_.clear();
}

bool DataPipeline::write_cache(const std::filesystem::path& cache_file, const std::string& key,
                               const Json& inputs) const {
  std::error_code ec;
  const std::filesystem::path tmp = temporary_path_for(cache_file);
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw IoError(tmp.string(), "cannot open for writing");
    }
    out.write(kCacheMagic, sizeof(kCacheMagic));
    // The payload goes to the file as it is written, hashed on the way: the dataset's bytes are never held whole.
    Sha256 payload_hash;
    const auto write = [&](std::string_view piece) {
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      payload_hash.update(piece);
    };
    BinaryWriter w([&](std::string_view piece) {
      if (spill_ == nullptr || !spill_->contains(piece)) {
        write(piece);
        return;
      }
      // Bytes read from the spill file go on in slices whose pages are let go once written: copying them does not
      // make the process hold them again.
      constexpr std::size_t kSlice = std::size_t{4} << 20;
      for (std::size_t at = 0; at < piece.size(); at += kSlice) {
        const std::string_view slice = piece.substr(at, kSlice);
        write(slice);
        spill_->drop_pages(slice);
      }
    });
    w.strings(samples_->entities);
    w.pod(samples_->price_window);
    samples_->samples.save(w);
    w.pod(samples_->report);
    w.pod(samples_->timed);
    split_.train.save(w);
    split_.valid.save(w);
    split_.test.save(w);
    w.str(sources_report_.dump());
    dataset_->serialize(w, /*with_samples=*/false);
    w.flush();
    const std::string header = Json{{"format", 3},
                                    {"finfuse", version()},
                                    {"key", key},
                                    {"inputs", inputs},
                                    {"payload_bytes", w.written()},
                                    {"payload_sha256", payload_hash.hex_digest()}}
                                   .dump();
    const std::uint64_t header_size = header.size();
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(&header_size), sizeof(header_size));
    out.close();
    if (!out) {
      throw IoError(tmp.string(), "write error");
    }
    commit_file(tmp, cache_file);
    logger()->info("data cached in {} ({:.1f} MB)", cache_file.string(), static_cast<double>(w.written()) / 1e6);
    return true;
  } catch (const std::exception& e) {
    std::filesystem::remove(tmp, ec);
    logger()->warn("cannot write the dataset cache {} ({}); continuing without it", cache_file.string(), e.what());
    return false;
  }
}

DataPipeline DataPipeline::open_cache(const DataConfig& config, const std::filesystem::path& cache_file,
                                      CacheCheck check) {
  auto mapped = std::make_shared<const MappedFile>(cache_file, "a dataset cache file");
  const std::string source = cache_file.string();
  std::string_view payload;
  const Json header = cache_header(mapped->bytes(), source, payload);
  if (header.value("key", "") != key_of(config, input_hashes(config, header["inputs"]))) {
    throw DataError(source, 0, "", "built from other input files or another configuration");
  }
  if (check == CacheCheck::checksum && header.value("payload_sha256", "") != sha256_hex(payload)) {
    throw DataError(source, 0, "", "the checksum does not match: the file is damaged or incomplete");
  }
  DataPipeline p = read_cache(config, std::move(mapped), payload, source);
  // The relation graph is small and a bundle stores it (bundle_source): read again, as when built.
  if (config.graph) {
    p.graph_ = std::make_shared<RelationGraph>(RelationGraph::load(config.graph->path, config.graph->options));
  }
  p.from_cache_ = true;
  return p;
}

DataPipeline DataPipeline::read_cache(const DataConfig& config, std::shared_ptr<const MappedFile> mapped,
                                      std::string_view payload, const std::string& source) {
  // Kept mapped: the samples and the modalities' arrays are read in place, so reading costs no copy, and processes
  // that open the same file (data-parallel ranks, concurrent runs) share its pages.
  BinaryReader r(payload, source, mapped);
  DataPipeline p;
  p.config_ = config;
  p.samples_->entities = r.strings();
  p.samples_->price_window = r.pod<std::int64_t>();
  p.samples_->samples = SampleList::load(r);
  p.samples_->report = r.pod<AssemblyReport>();
  p.samples_->timed = r.pod<bool>();
  p.samples_->market = config.assembly.market;
  const std::size_t samples = p.samples_->samples.size();
  p.split_.train = SampleIndices::load(r, samples);
  p.split_.valid = SampleIndices::load(r, samples);
  p.split_.test = SampleIndices::load(r, samples);
  p.sources_report_ = Json::parse(r.str());
  // The rest is the dataset's bytes, which hold no samples: it shares the pipeline's.
  p.dataset_ = std::make_shared<const MultimodalDataset>(MultimodalDataset::deserialize(
      payload.substr(r.position()), source, p.samples_->samples, std::move(mapped)));
  return p;
}

DataPipeline DataPipeline::build(const DataConfig& config, const std::filesystem::path& cache_dir, CacheCheck check) {
  std::filesystem::path cache_file;
  if (!cache_dir.empty()) {
    // Named after the configuration; the header holds the key of the inputs' contents.
    cache_file = cache_dir / fmt::format("dataset-{}.ffcache",
                                         sha256_hex(fmt::format(kCacheFormat, version()) + config.to_json().dump()).substr(0, 24));
    std::error_code ec;
    if (std::filesystem::exists(cache_file, ec)) {
      try {
        DataPipeline p = open_cache(config, cache_file, check);
        logger()->info("data loaded from cache {}", cache_file.string());
        return p;
      } catch (const std::exception& e) {
        logger()->warn("ignoring the dataset cache {}: {}; rebuilding it", cache_file.string(), e.what());
      }
    }
  }

  // Hashed before the files are read: a file that changes during the build shows a newer time next time.
  const std::vector<InputHash> inputs = cache_file.empty() ? std::vector<InputHash>{} : input_hashes(config);
  DataPipeline p;
  p.config_ = config;
  const NumericTable* sample_table = nullptr;
  const NumericTable* label_table = nullptr;
  const DataSources sources = p.load_sources(sample_table, label_table);
  if (p.prices_) {
    p.sources_report_["prices"] = {{"rows", p.prices_->report().rows},
                                   {"missing_rows", p.prices_->report().missing_rows},
                                   {"bad_rows", p.prices_->report().bad_rows}};
  }
  if (p.intraday_) {
    p.sources_report_["intraday"] = {{"rows", p.intraday_->report().rows},
                                     {"missing_rows", p.intraday_->report().missing_rows},
                                     {"bad_rows", p.intraday_->report().bad_rows}};
  }
  p.samples_ = std::make_shared<SampleSet>(sample_table != nullptr
                                               ? static_samples(*sample_table)
                                               : assemble_samples(*p.prices_, config.assembly, label_table));
  p.samples_->report.off_calendar = p.off_calendar_;
  FINFUSE_CHECK(!p.samples_->samples.empty(), "the data configuration yields no samples");

  const SplitOptions& s = config.split;
  if (s.kind == "chronological") {
    p.split_ = chronological_split(p.samples_->samples, *parse_date(s.valid_start), *parse_date(s.test_start),
                                   s.test_end.empty() ? std::nullopt : parse_date(s.test_end));
  } else if (s.kind == "walk_forward" || s.kind == "purged_kfold") {
    const auto folds = s.kind == "walk_forward" ? walk_forward(p.samples_->samples, s.walk_forward)
                                                : purged_kfold(p.samples_->samples, s.folds, s.embargo_days * 86400);
    FINFUSE_CHECK(s.fold < static_cast<std::int64_t>(folds.size()), "split fold ", s.fold, " does not exist: the ",
                  s.kind, " split has ", folds.size(), " fold(s)");
    p.split_ = folds[static_cast<std::size_t>(s.fold)];
  } else if (s.kind == "random") {
    p.split_ = random_split(*p.samples_, s.valid_fraction, s.test_fraction, s.seed);
  } else {
    p.split_ = stratified_split(*p.samples_, s.valid_fraction, s.test_fraction, s.seed);
  }
  FINFUSE_CHECK(!p.split_.train.empty(), "the split leaves no training samples");
  if (!cache_file.empty()) {
    // The folder of the file and of the bars written out before it (a failure shows when they are written).
    std::error_code ec;
    std::filesystem::create_directories(cache_file.parent_path(), ec);
  }
  p.dataset_ = p.build_dataset(sources, p.split_.train, nullptr, config.keep_prices && cache_file.empty(),
                               cache_file.empty() ? std::filesystem::path() : temporary_path_for(cache_file));
  // Samples left out for missing values (impute: drop) leave every part of the split, in place.
  const MultimodalDataset& dataset = *p.dataset_;
  for (auto* part : {&p.split_.train, &p.split_.valid, &p.split_.test}) {
    part->erase_if([&](std::size_t i) { return !dataset.usable(i); });
  }
  FINFUSE_CHECK(!p.split_.train.empty(), "no training sample is left after dropping missing values");

  p.release_sources();
  if (!cache_file.empty() && p.write_cache(cache_file, key_of(config, inputs), inputs_json(inputs))) {
    // The built arrays give way to the file's: the run goes on reading them in place from the page cache (shared
    // with any other process that opens the file) instead of holding its own copy. The file was just written from
    // these inputs, so its key and inputs are not checked again.
    try {
      auto mapped = std::make_shared<const MappedFile>(cache_file, "a dataset cache file");
      std::string_view payload;
      (void)cache_header(mapped->bytes(), cache_file.string(), payload);
      DataPipeline reopened = read_cache(config, std::move(mapped), payload, cache_file.string());
      p.samples_ = std::move(reopened.samples_);
      p.dataset_ = std::move(reopened.dataset_);
    } catch (const std::exception& e) {
      logger()->warn("cannot reopen the dataset cache {} just written ({}); keeping the built dataset",
                     cache_file.string(), e.what());
    }
  }
  if (!cache_file.empty()) {
    p.spill_.reset();  // the dataset's arrays that were read from it keep it while they are in use
    p.prices_.reset();  // as in a pipeline reopened from the file: the run is the same either way
  }
  return_freed_memory();
  return p;
}

Json DataPipeline::summary() const {
  Json out;
  out["samples"] = samples_->samples.size();
  out["entities"] = samples_->entities.size();
  out["assembly"] = {{"candidates", samples_->report.candidates},
                     {"short_history", samples_->report.short_history},
                     {"no_future", samples_->report.no_future},
                     {"dead_zone", samples_->report.dead_zone},
                     {"no_label", samples_->report.no_label},
                     {"off_calendar", samples_->report.off_calendar},
                     {"missing_target", samples_->report.missing_target}};
  const bool classes = config_.samples_from_table.empty() ? config_.assembly.label.is_classification() : true;
  const auto describe = [&](const SampleIndices& part) {
    Json j;
    j["samples"] = part.size();
    if (part.empty()) {
      return j;
    }
    if (samples_->timed) {
      Date first = samples_->samples.day(part.front());
      Date last = first;
      for (auto i : part) {
        first = std::min(first, samples_->samples.day(i));
        last = std::max(last, samples_->samples.day(i));
      }
      j["first_day"] = first.to_string();
      j["last_day"] = last.to_string();
    }
    if (classes) {
      std::map<std::string, std::int64_t> counts;
      for (auto i : part) {
        ++counts[fmt::format("{}", samples_->samples.target(i))];
      }
      j["classes"] = counts;
    } else {
      double mean = 0;
      for (auto i : part) {
        mean += samples_->samples.target(i);
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
