#include "finfuse/data/text_corpus.h"

#include "text_line.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"
#include "finfuse/data/parquet.h"

#include <ATen/Parallel.h>
#include <c10/util/hash.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

namespace finfuse::data {
namespace {

const Json& require_field(const Json& object, const std::string& field, const std::string& file, std::int64_t line,
                          const std::string& where) {
  const auto it = object.find(field);
  if (it == object.end()) {
    throw DataError(file, line, where + field, "missing field");
  }
  return *it;
}

std::string require_string(const Json& object, const std::string& field, const std::string& file, std::int64_t line,
                           const std::string& where) {
  const Json& value = require_field(object, field, file, line, where);
  if (!value.is_string()) {
    throw DataError(file, line, where + field, "expected a string, got " + detail::describe(value));
  }
  return value.get<std::string>();
}

Timestamp require_time(const Json& object, const std::string& field, const std::string& file, std::int64_t line,
                       const std::string& where) {
  const Json& value = require_field(object, field, file, line, where);
  if (value.is_number_integer()) {
    return Timestamp(value.get<std::int64_t>());
  }
  if (!value.is_string()) {
    throw DataError(file, line, where + field, "expected a timestamp, got " + detail::describe(value));
  }
  const auto text = value.get_ref<const std::string&>();
  const auto time = parse_timestamp(text);
  if (!time) {
    throw DataError(file, line, where + field,
                    fmt::format("expected a timestamp (ISO 8601, \"Wed Jan 01 03:59:03 +0000 2014\" or \"@seconds\"), "
                                "got \"{}\"",
                                text.substr(0, 40)));
  }
  return *time;
}

}  // namespace

TextJsonlOptions TextJsonlOptions::stocknet() {
  TextJsonlOptions o;
  o.layout = "nested";
  return o;
}

namespace {

// nlohmann's document builder with a check for keys repeated within one object, as a SAX handler: events go straight
// to the builder (a parse callback would copy every value), the keys of each open object are remembered.
class DuplicateKeyWatch {
 public:
  using Builder = nlohmann::detail::json_sax_dom_parser<Json>;

  explicit DuplicateKeyWatch(Json& out) : builder_(out) {}

  bool null() { return builder_.null(); }
  bool boolean(bool value) { return builder_.boolean(value); }
  bool number_integer(Json::number_integer_t value) { return builder_.number_integer(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return builder_.number_unsigned(value); }
  bool number_float(Json::number_float_t value, const Json::string_t& text) { return builder_.number_float(value, text); }
  bool string(Json::string_t& value) { return builder_.string(value); }
  bool binary(Json::binary_t& value) { return builder_.binary(value); }
  bool start_object(std::size_t size) {
    keys_.emplace_back();
    return builder_.start_object(size);
  }
  bool key(Json::string_t& key) {
    auto& seen = keys_.back();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      if (duplicate_.empty()) {
        duplicate_ = key;
      }
    } else {
      seen.push_back(key);
    }
    return builder_.key(key);
  }
  bool end_object() {
    keys_.pop_back();
    return builder_.end_object();
  }
  bool start_array(std::size_t size) { return builder_.start_array(size); }
  bool end_array() { return builder_.end_array(); }
  template <typename Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& error) {
    return builder_.parse_error(position, token, error);
  }

  /// The first key repeated within one object, or "".
  const std::string& duplicate() const { return duplicate_; }

 private:
  Builder builder_;
  std::vector<std::vector<std::string>> keys_;
  std::string duplicate_;
};

// Lines of a stream, read in large chunks. A line longer than `limit` bytes is not kept in memory: the reader skips
// to its end and reports only its length, so a runaway line (a 10 GB field) costs neither memory nor time to parse.
class LineReader {
 public:
  /// `expected_bytes`, the size of the input when known, keeps the buffer small for small files.
  LineReader(std::istream& in, std::int64_t limit, std::uintmax_t expected_bytes)
      : in_(in),
        limit_(static_cast<std::size_t>(limit)),
        chunk_(expected_bytes >= kChunk ? kChunk
                                        : static_cast<std::size_t>(std::max<std::uintmax_t>(expected_bytes + 1, 4096))) {}

  /// The next line without its '\n' in `line`, or its length in `overlong` (and `line` empty) when it exceeds the
  /// limit. False at the end of the input.
  bool next(std::string& line, std::uint64_t& overlong) {
    line.clear();
    overlong = 0;
    for (;;) {
      const auto* begin = buffer_.data() + position_;
      const auto available = buffer_.size() - position_;
      const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', available));
      const std::size_t take = newline != nullptr ? static_cast<std::size_t>(newline - begin) : available;
      if (overlong == 0 && line.size() + take <= limit_) {
        line.append(begin, take);
      } else {
        overlong = (overlong == 0 ? line.size() : overlong) + take;
        line.clear();
        line.shrink_to_fit();
      }
      position_ += take;
      if (newline != nullptr) {
        ++position_;
        return true;
      }
      if (!fill()) {
        return !line.empty() || overlong > 0;
      }
    }
  }

  bool bad() const { return in_.bad(); }

 private:
  bool fill() {
    buffer_.resize(chunk_);
    in_.read(buffer_.data(), static_cast<std::streamsize>(chunk_));
    buffer_.resize(static_cast<std::size_t>(in_.gcount()));
    position_ = 0;
    return !buffer_.empty();
  }

  static constexpr std::size_t kChunk = std::size_t{1} << 20;
  std::istream& in_;
  std::size_t limit_;
  std::size_t chunk_;
  std::string buffer_;
  std::size_t position_ = 0;
};

// The fast path: simdjson validates the whole line (structure, UTF-8, escapes, numbers) at gigabytes per second and
// the fields are read from its document. It only accepts: a line it refuses, or one whose fields are not what the
// options ask for, is handed to the reference path below (nlohmann_json), which either accepts it as well (a Latin-1
// line under 'latin1_fallback', a timestamp as an unsigned integer, nesting deeper than simdjson's 1,024 levels) or
// writes the diagnostic. Results are the same either way; tests compare the two paths on every line of the corpus.

// Lines longer than this go to the reference path: a simdjson parser keeps the capacity of its longest document, and
// there is one parser per thread.
constexpr std::size_t kFastPathMaxBytes = std::size_t{1} << 20;

bool blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

// True when no object anywhere in `element` has a key twice.
bool keys_unique(simdjson::dom::element element, std::vector<std::string_view>& keys) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      const auto first = keys.size();
      for (const auto field : simdjson::dom::object(element)) {
        for (auto k = first; k < keys.size(); ++k) {
          if (keys[k] == field.key) {
            return false;
          }
        }
        keys.push_back(field.key);
        if (!keys_unique(field.value, keys)) {
          return false;
        }
      }
      keys.resize(first);
      return true;
    }
    case simdjson::dom::element_type::ARRAY:
      for (const auto item : simdjson::dom::array(element)) {
        if (!keys_unique(item, keys)) {
          return false;
        }
      }
      return true;
    default:
      return true;
  }
}

std::optional<std::string_view> fast_string(simdjson::dom::object object, const std::string& field) {
  std::string_view value;
  if (object.at_key(field).get_string().get(value) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return value;
}

std::optional<Timestamp> fast_time(simdjson::dom::object object, const std::string& field) {
  simdjson::dom::element value;
  if (object.at_key(field).get(value) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (value.type() == simdjson::dom::element_type::INT64) {
    return Timestamp(std::int64_t(value));
  }
  if (value.type() == simdjson::dom::element_type::STRING) {
    return parse_timestamp(std::string_view(value));
  }
  return std::nullopt;
}

bool fast_take(simdjson::dom::element item, const TextJsonlOptions& options, std::vector<internal::ParsedText>& texts) {
  simdjson::dom::object object;
  if (item.get_object().get(object) != simdjson::SUCCESS) {
    return false;
  }
  const auto time = fast_time(object, options.time_field);
  const auto text = fast_string(object, options.text_field);
  if (!time || !text || blank(*text)) {
    return false;
  }
  texts.push_back(internal::ParsedText{*time, std::string(*text)});
  return true;
}

}  // namespace

namespace internal {

std::optional<ParsedTextLine> parse_text_line_fast(std::string_view raw, const TextJsonlOptions& options) {
  if (raw.size() > kFastPathMaxBytes) {
    return std::nullopt;
  }
  thread_local simdjson::dom::parser parser;
  thread_local std::vector<std::string_view> keys;
  simdjson::dom::element root;
  if (parser.parse(raw.data(), raw.size(), true).get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  keys.clear();
  simdjson::dom::object record;
  if (root.get_object().get(record) != simdjson::SUCCESS || !keys_unique(root, keys)) {
    return std::nullopt;
  }
  ParsedTextLine out;
  const auto entity = fast_string(record, options.entity_field);
  if (!entity || entity->empty()) {
    return std::nullopt;
  }
  out.entity = std::string(*entity);
  if (options.layout == "nested") {
    simdjson::dom::array list;
    if (record.at_key(options.list_field).get_array().get(list) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    out.texts.reserve(list.size());
    for (const auto item : list) {
      if (!fast_take(item, options, out.texts)) {
        return std::nullopt;
      }
    }
  } else if (!fast_take(root, options, out.texts)) {
    return std::nullopt;
  }
  return out;
}

ParsedTextLine parse_text_line_reference(std::string raw, std::uint64_t overlong, std::int64_t line,
                                         const std::string& file, const TextJsonlOptions& options) {
  ParsedTextLine out;
  try {
    if (overlong > 0) {
      throw DataError(file, line, "",
                      fmt::format("the line has {} bytes, more than the limit of {} (max_line_bytes); it was skipped "
                                  "unread",
                                  overlong, options.max_line_bytes));
    }
    if (const auto invalid = find_invalid_utf8(raw)) {
      if (options.encoding == EncodingPolicy::require_utf8) {
        throw DataError(file, line, "",
                        fmt::format("byte 0x{:02X} at column {} is not valid UTF-8 (set the encoding policy to "
                                    "'latin1_fallback' to convert Latin-1 text)",
                                    static_cast<unsigned char>(raw[*invalid]), *invalid + 1));
      }
      raw = latin1_to_utf8(raw);
      out.converted = true;
    }
    Json record;
    // nlohmann keeps the last of repeated keys; a record that says two things is refused instead.
    std::string duplicate;
    try {
      DuplicateKeyWatch watch(record);
      Json::sax_parse(raw, &watch);
      duplicate = watch.duplicate();
    } catch (const Json::exception& e) {  // syntax errors, and numbers too large for a double
      const std::string what = e.what();
      const auto colon = what.find(": ");
      throw DataError(file, line, "", "invalid JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
    }
    if (!duplicate.empty()) {
      throw DataError(file, line, duplicate,
                      fmt::format("the key '{}' appears twice in the same object (which value is meant?)", duplicate));
    }
    if (!record.is_object()) {
      throw DataError(file, line, "", "expected a JSON object, got " + detail::describe(record));
    }
    out.entity = require_string(record, options.entity_field, file, line, "");
    if (out.entity.empty()) {
      throw DataError(file, line, options.entity_field, "the entity is empty");
    }
    const auto take = [&](const Json& item, const std::string& where) {
      ParsedText text{require_time(item, options.time_field, file, line, where),
                      require_string(item, options.text_field, file, line, where)};
      if (blank(text.text)) {
        throw DataError(file, line, where + options.text_field, "the text is empty");
      }
      out.texts.push_back(std::move(text));
    };
    if (options.layout == "nested") {
      const Json& list = require_field(record, options.list_field, file, line, "");
      if (!list.is_array()) {
        throw DataError(file, line, options.list_field, "expected a list of texts, got " + detail::describe(list));
      }
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (!list[i].is_object()) {
          throw DataError(file, line, fmt::format("{}/{}", options.list_field, i),
                          "expected an object, got " + detail::describe(list[i]));
        }
        take(list[i], fmt::format("{}/{}/", options.list_field, i));
      }
    } else {
      take(record, "");
    }
  } catch (const DataError&) {
    // A bad line is dropped whole (lenient mode skips it; strict mode reports it).
    out.texts.clear();
    out.error = std::current_exception();
  }
  return out;
}

ParsedTextLine parse_text_line(std::string_view raw, std::uint64_t overlong, std::int64_t line, const std::string& file,
                               const TextJsonlOptions& options) {
  if (overlong == 0) {
    if (auto fast = parse_text_line_fast(raw, options)) {
      return std::move(*fast);
    }
  }
  return parse_text_line_reference(std::string(raw), overlong, line, file, options);
}

}  // namespace internal

namespace {

// A text as a reader hands it on: views valid while its block is handed on.
struct ReadText {
  std::string_view entity;
  Timestamp time;
  std::string_view text;
};

// The digest of load_times() after `text`, from the digest before it.
std::uint64_t digest_after(std::uint64_t digest, const ReadText& text) {
  digest = c10::hash_combine(digest, std::hash<std::string_view>{}(text.entity));
  return c10::hash_combine(digest, std::hash<std::int64_t>{}(text.time.seconds()));
}
using TextBlockSink = std::function<void(const std::vector<ReadText>&)>;

// Reads a JSON Lines file of texts, handing them on a block at a time in file order, counting lines, texts and bad
// records into `report` and `bad`.
void read_jsonl_texts(const std::filesystem::path& path, const TextJsonlOptions& options, TextLoadReport& report,
                      BadRecordLog& bad, const TextBlockSink& sink) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(path.string(), "no such file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string(), "cannot open for reading");
  }
  const std::string file = path.string();
  // Lines are read in blocks, parsed on every intra-op thread, and kept in file order: the result, and the first
  // error in strict mode, are those of reading line by line.
  // A block's lines lie one after another in one buffer, reused from block to block.
  constexpr std::size_t kBlock = 4096;
  constexpr std::size_t kBlockBytes = std::size_t{8} << 20;
  struct Line {
    std::int64_t number;
    std::size_t offset;
    std::size_t size;
    std::uint64_t overlong;
  };
  std::vector<Line> block;
  block.reserve(kBlock);
  std::string text;
  std::vector<ReadText> out;
  const auto flush = [&] {
    std::vector<internal::ParsedTextLine> parsed(block.size());
    at::parallel_for(0, static_cast<std::int64_t>(block.size()), 64, [&](std::int64_t begin, std::int64_t end) {
      for (auto i = begin; i < end; ++i) {
        const auto& entry = block[static_cast<std::size_t>(i)];
        parsed[static_cast<std::size_t>(i)] = internal::parse_text_line(
            std::string_view(text).substr(entry.offset, entry.size), entry.overlong, entry.number, file, options);
      }
    });
    out.clear();
    for (auto& p : parsed) {
      if (p.error) {
        ++report.bad_records;
        try {
          std::rethrow_exception(p.error);
        } catch (const DataError& e) {
          bad.add(e);
        }
        continue;
      }
      report.converted_from_latin1 = report.converted_from_latin1 || p.converted;
      report.texts += static_cast<std::int64_t>(p.texts.size());
      for (const auto& parsed_text : p.texts) {
        out.push_back(ReadText{p.entity, parsed_text.time, parsed_text.text});
      }
    }
    sink(out);
    block.clear();
    text.clear();
  };
  std::string raw;
  std::uint64_t overlong = 0;
  std::int64_t line = 0;
  LineReader reader(in, options.max_line_bytes, std::filesystem::file_size(path, ec));
  while (reader.next(raw, overlong)) {
    ++line;
    if (!raw.empty() && raw.back() == '\r') {
      raw.pop_back();
    }
    if (line == 1) {
      raw.erase(0, byte_order_mark_length(raw, file));
    }
    if (overlong == 0 && blank(raw)) {
      continue;
    }
    ++report.lines;
    block.push_back(Line{line, text.size(), raw.size(), overlong});
    text += raw;
    if (block.size() == kBlock || text.size() >= kBlockBytes) {
      flush();
    }
  }
  if (reader.bad()) {
    throw IoError(file, "read error");
  }
  flush();
}

// The same for a Parquet file (layout "flat"), a row a text.
void read_parquet_texts(const std::filesystem::path& path, const TextJsonlOptions& options, TextLoadReport& report,
                        BadRecordLog& bad, const TextBlockSink& sink) {
  ParquetReader reader = ParquetReader::open(path);
  const std::string& file = reader.source();
  if (options.layout != "flat") {
    throw DataError(file, 0, "",
                    fmt::format("layout '{}': a Parquet file of texts is flat, one text per row (layout 'flat')",
                                options.layout));
  }
  const std::size_t entity_column = reader.require_column(options.entity_field);
  const std::size_t time_column = reader.require_column(options.time_field);
  const std::size_t text_column = reader.require_column(options.text_field);
  CsvRecord record;
  std::string converted;
  // A row's fields are views of the reader's current row: the block's entities and texts are copied one after
  // another into `bytes` and handed on 4,096 at a time (or 8 MB).
  struct Kept {
    std::size_t entity;
    std::size_t entity_size;
    Timestamp time;
    std::size_t text;
    std::size_t text_size;
  };
  std::string bytes;
  std::vector<Kept> kept;
  std::vector<ReadText> out;
  const auto flush = [&] {
    out.clear();
    for (const auto& k : kept) {
      out.push_back(ReadText{std::string_view(bytes).substr(k.entity, k.entity_size), k.time,
                             std::string_view(bytes).substr(k.text, k.text_size)});
    }
    if (!out.empty()) {
      sink(out);
    }
    kept.clear();
    bytes.clear();
  };
  while (reader.next(record, bad)) {
    ++report.lines;
    try {
      const std::string_view entity = record[entity_column];
      if (entity.empty()) {
        throw DataError(file, record.line, options.entity_field, "the entity is empty");
      }
      const std::string_view when = record[time_column];
      const auto time = parse_timestamp(when);
      if (!time) {
        throw DataError(file, record.line, options.time_field,
                        fmt::format("expected a timestamp (a Parquet timestamp, or ISO 8601, \"Wed Jan 01 03:59:03 "
                                    "+0000 2014\" or \"@seconds\" text), got {}",
                                    quoted_value(when.substr(0, 40))));
      }
      std::string_view text = record[text_column];
      bool from_latin1 = false;
      // Parquet strings are UTF-8 by the format's definition; a writer may still have put other bytes there.
      if (const auto invalid = find_invalid_utf8(text)) {
        if (options.encoding == EncodingPolicy::require_utf8) {
          throw DataError(file, record.line, options.text_field,
                          fmt::format("byte 0x{:02X} at byte {} is not valid UTF-8 (set the encoding policy to "
                                      "'latin1_fallback' to convert Latin-1 text)",
                                      static_cast<unsigned char>(text[*invalid]), *invalid + 1));
        }
        converted = latin1_to_utf8(text);
        text = converted;
        from_latin1 = true;
      }
      if (blank(text)) {
        throw DataError(file, record.line, options.text_field, "the text is empty");
      }
      report.converted_from_latin1 = report.converted_from_latin1 || from_latin1;
      ++report.texts;
      kept.push_back(Kept{bytes.size(), entity.size(), *time, bytes.size() + entity.size(), text.size()});
      bytes.append(entity);
      bytes.append(text);
      if (kept.size() == 4096 || bytes.size() >= (std::size_t{8} << 20)) {
        flush();
      }
    } catch (const DataError& e) {
      ++report.bad_records;
      bad.add(e);
    }
  }
  flush();
}

void read_texts(const std::filesystem::path& path, const TextJsonlOptions& options, TextLoadReport& report,
                BadRecordLog& bad, const TextBlockSink& sink) {
  if (is_parquet_path(path)) {
    read_parquet_texts(path, options, report, bad, sink);
  } else {
    read_jsonl_texts(path, options, report, bad, sink);
  }
}

// What a file's records are called in messages.
const char* record_unit(bool parquet) { return parquet ? "row" : "line"; }

}  // namespace

TextCorpus TextCorpus::load_jsonl(const std::filesystem::path& path, const TextJsonlOptions& options) {
  return load_whole(path, options, /*parquet=*/false);
}

TextCorpus TextCorpus::load(const std::filesystem::path& path, const TextJsonlOptions& options) {
  return load_whole(path, options, is_parquet_path(path));
}

TextCorpus TextCorpus::load_parquet(const std::filesystem::path& path, const TextJsonlOptions& options) {
  return load_whole(path, options, /*parquet=*/true);
}

TextCorpus TextCorpus::load_whole(const std::filesystem::path& path, const TextJsonlOptions& options, bool parquet) {
  TextCorpus corpus;
  corpus.finalized_ = false;
  BadRecordLog bad(options.errors);
  const auto keep_block = [&](const std::vector<ReadText>& block) {
    for (const auto& t : block) {
      corpus.records_of(t.entity).push_back(TextRecord{t.time, corpus.keep(t.text)});
    }
  };
  if (parquet) {
    read_parquet_texts(path, options, corpus.report_, bad, keep_block);
  } else {
    read_jsonl_texts(path, options, corpus.report_, bad, keep_block);
  }
  corpus.finish(path.string(), record_unit(parquet), bad);
  return corpus;
}

std::vector<TextRecord>& TextCorpus::records_of(std::string_view entity) {
  auto it = texts_.find(entity);
  if (it == texts_.end()) {
    it = texts_.emplace(std::string(entity), std::vector<TextRecord>()).first;
  }
  return it->second;
}

TextCorpus TextCorpus::load_times(const std::filesystem::path& path, const TextJsonlOptions& options) {
  TextCorpus corpus;
  corpus.times_only_ = true;
  corpus.source_ = path;
  corpus.options_ = options;
  BadRecordLog bad(options.errors);
  // Each entity's texts as (time, number in file order) until they are sorted by time; then the place of each.
  std::map<std::string, std::vector<std::pair<Timestamp, std::uint32_t>>, std::less<>> timed;
  std::uint32_t number = 0;
  read_texts(path, options, corpus.report_, bad, [&](const std::vector<ReadText>& block) {
    for (const auto& t : block) {
      if (number == std::numeric_limits<std::int32_t>::max()) {
        throw DataError(path.string(), 0, "", "more than 2^31 texts: read them with load() instead");
      }
      auto it = timed.find(t.entity);
      if (it == timed.end()) {
        it = timed.emplace(std::string(t.entity), std::vector<std::pair<Timestamp, std::uint32_t>>()).first;
      }
      it->second.emplace_back(t.time, number++);
      corpus.digest_ = digest_after(corpus.digest_, t);
    }
  });
  corpus.place_of_.resize(number);
  while (!timed.empty()) {
    auto node = timed.extract(timed.begin());
    auto& list = node.mapped();
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<TextRecord> records(list.size());
    for (std::size_t k = 0; k < list.size(); ++k) {
      records[k].time = list[k].first;
      corpus.place_of_[list[k].second] = static_cast<std::int32_t>(k);
    }
    corpus.texts_.emplace(std::move(node.key()), std::move(records));
  }
  corpus.finalized_ = true;  // each entity's records were made in time order, at their size
  std::error_code ec;
  corpus.source_bytes_ = std::filesystem::file_size(path, ec);
  corpus.source_time_ = std::filesystem::last_write_time(path, ec);
  corpus.finish(path.string(), record_unit(is_parquet_path(path)), bad);
  return corpus;
}

void TextCorpus::for_each_text(const std::function<void(const std::vector<PlacedText>&)>& visit) const {
  FINFUSE_CHECK(times_only_, "TextCorpus::for_each_text: the corpus holds its texts (it was not read by load_times)");
  const std::string file = source_.string();
  std::error_code ec;
  if (std::filesystem::file_size(source_, ec) != source_bytes_ || std::filesystem::last_write_time(source_, ec) != source_time_) {
    throw IoError(file, "the file changed since its texts' times were read; read it again");
  }
  TextLoadReport report;
  BadRecordLog bad(options_.errors);
  std::size_t number = 0;
  std::uint64_t digest = 0;
  std::vector<PlacedText> placed;
  const auto changed = [&](const std::string& what) {
    throw IoError(file, "the file changed since its texts' times were read (" + what + "); read it again");
  };
  read_texts(source_, options_, report, bad, [&](const std::vector<ReadText>& block) {
    placed.clear();
    for (const auto& t : block) {
      if (number >= place_of_.size()) {
        changed("it holds more texts");
      }
      const auto it = texts_.find(t.entity);
      const auto place = static_cast<std::size_t>(place_of_[number]);
      bool same = it != texts_.end();
      if (same && times_released_) {
        const auto size = released_sizes_.find(t.entity);
        same = size != released_sizes_.end() && place < size->second;
      } else if (same) {
        same = place < it->second.size() && it->second[place].time == t.time;
      }
      if (!same) {
        changed(fmt::format("text {} of entity '{}' is not the one it was", number + 1, t.entity));
      }
      digest = digest_after(digest, t);
      placed.push_back(PlacedText{it->first, &it->second, place, t.text});
      ++number;
    }
    visit(placed);
  });
  if (number != place_of_.size() || report.bad_records != report_.bad_records) {
    changed(fmt::format("{} texts and {} bad records where there were {} and {}", number, report.bad_records,
                        place_of_.size(), report_.bad_records));
  }
  if (digest != digest_) {
    changed("the texts' entities or times are not the ones they were");
  }
}

void TextCorpus::release_times() {
  FINFUSE_CHECK(times_only_, "TextCorpus::release_times: the corpus holds its texts (it was not read by load_times)");
  if (times_released_) {
    return;
  }
  for (auto& [entity, records] : texts_) {
    released_sizes_.emplace(entity, records.size());
    records = std::vector<TextRecord>();  // `= {}` or clear() would keep the room
  }
  times_released_ = true;
}

TextCorpus::TextCorpus(const TextCorpus& other)
    : finalized_(other.finalized_),
      report_(other.report_),
      times_only_(other.times_only_),
      source_(other.source_),
      options_(other.options_),
      place_of_(other.place_of_),
      digest_(other.digest_),
      times_released_(other.times_released_),
      released_sizes_(other.released_sizes_),
      source_bytes_(other.source_bytes_),
      source_time_(other.source_time_) {
  for (const auto& [entity, texts] : other.texts_) {
    auto& mine = texts_[entity];
    mine.reserve(texts.size());
    for (const auto& record : texts) {
      mine.push_back(TextRecord{record.time, keep(record.text)});
    }
  }
}

TextCorpus& TextCorpus::operator=(const TextCorpus& other) {
  if (this != &other) {
    *this = TextCorpus(other);
  }
  return *this;
}

std::string_view TextCorpus::keep(std::string_view text) {
  // Blocks of 1 MiB: a text costs its bytes, and the records 24 bytes each, where a std::string per text would cost an
  // allocation of its own and 32 bytes more.
  constexpr std::size_t kTextBlockBytes = std::size_t{1} << 20;
  if (text.empty()) {
    return {};
  }
  if (blocks_.empty() || block_size_ - block_used_ < text.size()) {
    block_size_ = std::max(kTextBlockBytes, text.size());
    blocks_.push_back(std::unique_ptr<char[]>(new char[block_size_]));
    block_used_ = 0;
  }
  char* at = blocks_.back().get() + block_used_;
  std::memcpy(at, text.data(), text.size());
  block_used_ += text.size();
  return {at, text.size()};
}

void TextCorpus::finish(const std::string& file, const char* unit, const BadRecordLog& bad) {
  if (!finalized_) {
    finalize();
    for (auto& entry : texts_) {
      entry.second.shrink_to_fit();
    }
  }
  logger()->info("{}: {} text(s) of {} entit{} from {} {}(s){}", file, report_.texts, texts_.size(),
                 texts_.size() == 1 ? "y" : "ies", report_.lines, unit,
                 report_.converted_from_latin1 ? " (converted from Latin-1)" : "");
  bad.log_summary(file);
}

void TextCorpus::add(const std::string& entity, TextRecord record) {
  record.text = keep(record.text);
  texts_[entity].push_back(record);
  finalized_ = false;
}

void TextCorpus::finalize() {
  for (auto& entry : texts_) {
    std::stable_sort(entry.second.begin(), entry.second.end(),
                     [](const TextRecord& a, const TextRecord& b) { return a.time < b.time; });
  }
  finalized_ = true;
}

std::vector<std::string> TextCorpus::entities() const {
  std::vector<std::string> out;
  for (const auto& entry : texts_) {
    out.push_back(entry.first);
  }
  return out;
}

const std::vector<TextRecord>& TextCorpus::texts(const std::string& entity) const {
  static const std::vector<TextRecord> none;
  const auto it = texts_.find(entity);
  return it == texts_.end() ? none : it->second;
}

std::int64_t TextCorpus::size() const {
  std::int64_t total = 0;
  for (const auto& entry : texts_) {
    total += static_cast<std::int64_t>(entry.second.size());
  }
  for (const auto& entry : released_sizes_) {
    total += static_cast<std::int64_t>(entry.second);
  }
  return total;
}

std::vector<const TextRecord*> TextCorpus::window(const std::string& entity, Timestamp start, Timestamp cutoff,
                                                  std::size_t max_count) const {
  FINFUSE_CHECK(finalized_, "TextCorpus::window: call finalize() after add()");
  const auto& all = texts(entity);
  const Span span = window_span(all, start, cutoff, max_count);
  std::vector<const TextRecord*> out;
  out.reserve(span.size());
  for (std::size_t k = span.last; k > span.first; --k) {
    out.push_back(&all[k - 1]);
  }
  return out;
}

TextCorpus::Span TextCorpus::window_span(const std::vector<TextRecord>& texts, Timestamp start, Timestamp cutoff,
                                         std::size_t max_count) {
  const auto by_time = [](const TextRecord& r, Timestamp t) { return r.time < t; };
  const auto first = std::lower_bound(texts.begin(), texts.end(), start, by_time);
  const auto last = std::lower_bound(first, texts.end(), cutoff, by_time);  // first text at or after the cutoff
  Span span{static_cast<std::size_t>(first - texts.begin()), static_cast<std::size_t>(last - texts.begin())};
  if (max_count != 0 && span.size() > max_count) {
    span.first = span.last - max_count;
  }
  return span;
}

}  // namespace finfuse::data
