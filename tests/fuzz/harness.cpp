#include "harness.h"

#include "finfuse/core/config.h"
#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/price_panel.h"
#include "finfuse/data/relation_graph.h"
#include "finfuse/data/exchange_calendar.h"
#include "finfuse/data/intraday_panel.h"
#include "finfuse/data/text_corpus.h"
#include "finfuse/data/tokenizer.h"
#include "finfuse/encoders/pretrained.h"
#include "finfuse/io/bundle.h"
#include "finfuse/models/multimodal_model.h"
#include "finfuse/training/run_config.h"
#include "finfuse/training/trainer.h"

#include "data/text_line.h"

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <torch/types.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <typeinfo>
#include <unistd.h>

namespace finfuse::fuzz {

namespace {

// A scratch folder of this process, made once.
const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    const auto base = std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                           : std::filesystem::temp_directory_path();
    auto d = base / ("finfuse_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes an input where its parser reads it, `name` relative to the scratch folder. Streams, not
// std::filesystem::copy_file: its sendfile gives up on EINTR, and libFuzzer's timers interrupt system calls.
std::filesystem::path write(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto path = scratch() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// A small model to load checkpoints into (a checkpoint of any other model is refused by the trainer).
struct CheckpointFixture {
  static models::MultimodalModel model(const data::MultimodalDataset& dataset) {
    seed_everything(1);
    return models::MultimodalModel(Config(Json{{"encoders", {{"numeric", {{"type", "mlp"}, {"layers", {4}}}}}},
                                               {"heads", {{"default", {{"type", "classification"}}}}}}),
                                   models::modality_specs(dataset));
  }
  training::Trainer trainer(const std::filesystem::path& dir) const {
    training::TrainerOptions options;
    options.progress("none");
    options.out_dir(dir.string());
    return training::Trainer(options, model(*dataset), dataset, train, {});
  }

  std::shared_ptr<data::NumericTable> table;
  std::shared_ptr<const data::MultimodalDataset> dataset;
  std::vector<std::size_t> train;

  CheckpointFixture() {
    const auto csv = scratch() / "fixture.csv";
    std::ofstream(csv) << "id,x,y\n1,0.5,0\n2,-0.5,1\n3,1.5,0\n4,-1.5,1\n";
    data::NumericTableOptions options;
    options.kind = "static";
    options.entity_column = "id";
    options.label_column = "y";
    table = std::make_shared<data::NumericTable>(data::NumericTable::load_csv(csv, options));
    const auto samples = data::static_samples(*table);
    train = {0, 1, 2, 3};
    data::DatasetOptions dataset_options;
    dataset_options.modalities = {"numeric"};
    dataset = std::make_shared<const data::MultimodalDataset>(data::MultimodalDataset::build(
        samples, data::DataSources{nullptr, nullptr, {{"t", table.get()}}}, dataset_options, train));
  }
};

// Differential check of the JSON Lines reader: on every line, the fast path (simdjson) must either leave the line to
// the reference path (nlohmann_json) or read exactly what the reference reads.
void check_text_paths(const std::filesystem::path& path, const data::TextJsonlOptions& options) {
  std::ifstream in(path, std::ios::binary);
  std::string raw;
  std::int64_t line = 0;
  while (std::getline(in, raw)) {
    ++line;
    if (!raw.empty() && raw.back() == '\r') {
      raw.pop_back();
    }
    const auto fast = data::internal::parse_text_line_fast(raw, options);
    if (!fast) {
      continue;
    }
    const auto reference = data::internal::parse_text_line_reference(raw, 0, line, path.string(), options);
    bool same = !reference.error && fast->entity == reference.entity && fast->texts.size() == reference.texts.size();
    for (std::size_t i = 0; same && i < fast->texts.size(); ++i) {
      same = fast->texts[i].time == reference.texts[i].time && fast->texts[i].text == reference.texts[i].text;
    }
    if (!same) {
      std::fprintf(stderr, "finfuse fuzz: line %lld: the simdjson path and the reference path disagree\n",
                   static_cast<long long>(line));
      std::abort();
    }
  }
}

void load_texts(const std::filesystem::path& path, const data::TextJsonlOptions& options) {
  check_text_paths(path, options);
  data::TextCorpus::load_jsonl(path, options);
}


// The torch_save_pickle target: the input is a pickle program, optionally followed by kRecordsMarker and lines
// "<key> <bytes>"; it becomes the data.pkl of a fresh archive with a zero-filled record data/<key> of each size, so
// that the fuzzer mutates the pickle interpreter's input directly (a mutated byte of a torch.save file is mostly
// caught by the zip layer's checksum first).
constexpr const char* kRecordsMarker = "\n--finfuse-records--\n";

std::filesystem::path pickle_archive(const std::filesystem::path& input) {
  std::ifstream in(input, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = bytes.rfind(kRecordsMarker);
  const std::string pickle = at == std::string::npos ? bytes : bytes.substr(0, at);
  std::vector<std::pair<std::string, std::size_t>> records;
  if (at != std::string::npos) {
    std::istringstream lines(bytes.substr(at + std::strlen(kRecordsMarker)));
    std::string key;
    long long size = 0;
    while (records.size() < 64 && lines >> key >> size) {
      records.emplace_back(key, static_cast<std::size_t>(std::clamp(size, 0LL, 1LL << 20)));
    }
  }
  const auto path = scratch() / "pickle.pt";
  caffe2::serialize::PyTorchStreamWriter writer(path.string());
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  writer.writeRecord("byteorder", "little", 6);
  std::vector<char> zeros;
  for (const auto& [key, size] : records) {
    const std::string name = "data/" + key;
    const bool plain = !key.empty() && key.size() <= 16 && std::all_of(key.begin(), key.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    });
    if (!plain || writer.getAllWrittenRecords().count(name) != 0) {
      continue;
    }
    zeros.assign(size, 0);
    writer.writeRecord(name, zeros.data(), zeros.size());
  }
  writer.writeEndOfFile();
  return path;
}

// A Hugging Face folder around the input, its config.json (weights and vocabulary present, not read here).
void read_huggingface_config(const std::filesystem::path& input) {
  const auto folder = input.parent_path();
  if (!std::filesystem::exists(folder / "model.safetensors")) {
    formats::write_safetensors(folder / "model.safetensors", {{"embeddings.word_embeddings.weight", torch::zeros({2, 2})}});
    std::ofstream(folder / "vocab.txt") << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nmarket\n";
  }
  const auto bert = encoders::read_huggingface_bert(folder);
  encoders::huggingface_encoder_options(Config(Json{{"pooling", "cls"}}), bert, folder);
}

void read_word_vectors(const std::filesystem::path& path) {
  const std::vector<std::string> vocabulary = {"[PAD]", "[UNK]", "the", "market", "rallied", "earnings"};
  encoders::load_word_vectors(path, vocabulary, torch::zeros({static_cast<std::int64_t>(vocabulary.size()), 4}));
}

void read_calendar(const std::filesystem::path& path) {
  data::ExchangeCalendarOptions options;
  options.file(path);
  const data::ExchangeCalendar calendar(options);
  calendar.sessions(data::Date::from_ymd(1999, 1, 1), data::Date::from_ymd(2031, 12, 31));
}

// What a CSV reader gives, in order: the header, then each record with its line or each error; or the one error that
// ended the reading ("fatal"), which a reader reading a file a block at a time may reach only after some records.
std::vector<std::string> csv_transcript(const std::function<data::CsvReader()>& open) {
  std::vector<std::string> out;
  std::optional<data::CsvReader> reader;
  try {
    reader.emplace(open());
  } catch (const Error& e) {
    return {std::string("fatal ") + e.what()};
  }
  std::string header;
  for (const auto& name : reader->header()) {
    header += name + "\x1F";
  }
  out.push_back(header);
  data::CsvRecord record;
  for (;;) {
    try {
      if (!reader->next(record)) {
        return out;
      }
      std::string row = std::to_string(record.line) + ":";
      for (const auto field : record.fields) {
        row.append(field.data(), field.size()).push_back('\x1F');
      }
      out.push_back(row);
    } catch (const Error& e) {
      const std::string error = std::string("error ") + e.what();
      if (!out.empty() && out.back() == error) {
        out.back() = std::string("fatal ") + e.what();  // thrown again: the reading has ended
        return out;
      }
      out.push_back(error);
    }
  }
}

// The CSV reader reading a file a few bytes at a time gives what it gives reading the text whole: the same header,
// records, lines and errors. The input's first byte picks the block (1 to 64 bytes), the encoding policy and quoting;
// the rest is the file. A difference is a bug, reported as an exception that is not a finfuse::Error.
void read_csv_in_blocks(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    return;
  }
  const auto control = static_cast<unsigned char>(bytes[0]);
  data::CsvOptions options;
  options.encoding = (control & 0x40) != 0 ? data::EncodingPolicy::latin1_fallback : data::EncodingPolicy::require_utf8;
  options.quote = (control & 0x80) != 0 ? '\0' : '"';
  options.max_field_bytes = 48;
  const std::size_t block = 1 + (control & 0x3F);
  const auto file = scratch() / "blocks-body.csv";
  std::ofstream(file, std::ios::binary).write(bytes.data() + 1, static_cast<std::streamsize>(bytes.size() - 1));
  const auto whole = csv_transcript([&] { return data::CsvReader::from_string(bytes.substr(1), file.string(), options); });
  const auto streamed = csv_transcript([&] { return data::CsvReader::open(file, options, block); });
  // Text checked whole refuses an invalid byte before any record; read a block at a time, the records before it come
  // first, and the reading ends with the same error, unless the header (read when the file is opened) has an error
  // of its own on an earlier line.
  const auto line_of = [&](const std::string& entry) {
    const std::string prefix = "fatal " + file.string() + ":";
    return entry.rfind(prefix, 0) == 0 ? std::atoll(entry.c_str() + prefix.size()) : 0;
  };
  const bool whole_refused = whole.size() == 1 && whole.front().rfind("fatal ", 0) == 0;
  const bool same = whole == streamed || (whole_refused && streamed.back() == whole.front()) ||
                    (whole_refused && whole.front().find("is not valid UTF-8") != std::string::npos &&
                     streamed.size() == 1 && line_of(streamed.front()) < line_of(whole.front()));
  if (!same) {
    std::string report = fmt::format("blocks of {} bytes differ from the whole text:\n", block);
    for (std::size_t i = 0; i < std::max(whole.size(), streamed.size()); ++i) {
      report += fmt::format("  {} | {}\n", i < whole.size() ? whole[i] : "-", i < streamed.size() ? streamed[i] : "-");
    }
    throw std::logic_error(report);
  }
  if (whole.front().rfind("fatal ", 0) == 0) {
    throw DataError(file.string(), 0, "", whole.front().substr(6));  // refused, cleanly, by both
  }
}

struct Entry {
  /// Where an input is written, relative to the scratch folder; in a subfolder for parsers that read a folder.
  std::string file;
  std::function<void(const std::filesystem::path&)> parse;
};

const std::map<std::string, Entry>& entries() {
  static const std::map<std::string, Entry> all = {
      {"price_csv", {"prices.csv", [](const std::filesystem::path& p) { data::PricePanel::load_csv(p); }}},
      {"intraday_csv", {"minute.csv", [](const std::filesystem::path& p) { data::IntradayPanel::load_csv(p); }}},
      {"csv_blocks", {"blocks.csv", read_csv_in_blocks}},
      {"numeric_csv",
       {"table.csv",
        [](const std::filesystem::path& p) {
          data::NumericTableOptions options;  // an entity table with a label, the common case
          options.label_column = "label";
          data::NumericTable::load_csv(p, options);
        }}},
      {"text_jsonl", {"texts.jsonl", [](const std::filesystem::path& p) { load_texts(p, {}); }}},
      {"stocknet_jsonl",
       {"tweets.jsonl", [](const std::filesystem::path& p) { load_texts(p, data::TextJsonlOptions::stocknet()); }}},
      {"edge_list", {"edges.csv", [](const std::filesystem::path& p) { data::RelationGraph::load_edge_list(p); }}},
      {"config_json", {"run.json", [](const std::filesystem::path& p) { training::RunConfig::load(p); }}},
      {"vocabulary",
       {"vocab.txt",
        [](const std::filesystem::path& p) {
          data::TokenizerOptions options;
          options.kind = "wordpiece";
          options.vocab_file = p.string();
          const auto tokenizer = data::Tokenizer::load_wordpiece(options);
          tokenizer.encode("the market rallied 3.5% on earnings");
        }}},
      {"torch_save", {"weights.pt", [](const std::filesystem::path& p) { encoders::read_weights(p); }}},
      {"torch_save_pickle",
       {"program.pkl", [](const std::filesystem::path& p) { encoders::read_weights(pickle_archive(p)); }}},
      {"safetensors", {"weights.safetensors", [](const std::filesystem::path& p) { encoders::read_weights(p); }}},
      {"word_vectors", {"vectors.txt", read_word_vectors}},
      {"huggingface_config", {"huggingface/config.json", read_huggingface_config}},
      {"exchange_calendar", {"calendar.csv", read_calendar}},
      {"bundle_archive", {"model.ffbundle", [](const std::filesystem::path& p) { io::read_bundle(p); }}},
      {"checkpoint",
       {"checkpoints/checkpoint-e000-s00000001.pt",
        [](const std::filesystem::path& p) {
          // The trainer looks for checkpoints in a folder: the input is the only file there.
          static const CheckpointFixture fixture;
          const auto dir = p.parent_path();
          for (const auto& file : std::filesystem::directory_iterator(dir)) {
            if (file.path() != p) {
              std::filesystem::remove_all(file.path());
            }
          }
          auto trainer = fixture.trainer(dir);
          trainer.resume(dir);
        }}},
  };
  return all;
}

}  // namespace

const std::vector<std::string>& targets() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries()) {
      out.push_back(name);
    }
    return out;
  }();
  return names;
}

const Entry& entry(const std::string& target) {
  const auto it = entries().find(target);
  if (it == entries().end()) {
    std::fprintf(stderr, "finfuse fuzz: no target '%s'\n", target.c_str());
    std::abort();
  }
  return it->second;
}

void parse_file(const std::string& target, const std::filesystem::path& path) {
  const auto& e = entry(target);
  if (!std::filesystem::path(e.file).has_parent_path()) {
    e.parse(path);  // read where it is, so that messages name the file
    return;
  }
  // The parser reads a folder around its input: the bytes go where it looks.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  e.parse(write(e.file, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

bool run(const std::string& target, const std::uint8_t* data, std::size_t size) {
  const auto& e = entry(target);
  const auto path = write(e.file, data, size);
  try {
    e.parse(path);
    return true;
  } catch (const Error&) {
    return false;  // refused with a finfuse error: what bad input should get
  } catch (const std::exception& error) {
    std::fprintf(stderr, "finfuse fuzz: %s: an exception that is not a finfuse::Error escaped (%s): %s\n",
                 target.c_str(), typeid(error).name(), error.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "finfuse fuzz: %s: a non-standard exception escaped\n", target.c_str());
    std::abort();
  }
}

void write_binary_seeds(const std::string& target, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const CheckpointFixture fixture;
  if (target == "checkpoint") {
    const auto out = scratch() / "seed-checkpoints";
    std::filesystem::remove_all(out);
    auto trainer = fixture.trainer(out);
    const auto written = trainer.save_checkpoint();
    std::filesystem::copy_file(written, std::filesystem::path(dir) / "checkpoint.pt",
                               std::filesystem::copy_options::overwrite_existing);
  } else if (target == "bundle_archive") {
    io::BundleSource source;
    source.model = CheckpointFixture::model(*fixture.dataset);
    source.modalities = models::modality_specs(*fixture.dataset);
    const auto folder = scratch() / "seed-bundle";
    std::filesystem::remove_all(folder);
    io::write_bundle(folder, source);
    io::write_bundle_archive(folder, std::filesystem::path(dir) / "model.ffbundle");
  }
}

}  // namespace finfuse::fuzz
