#include "finfuse/core/config.h"
#include "finfuse/core/options.h"

#include "finfuse/core/file.h"
#include "finfuse/core/suggest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>

namespace finfuse {
namespace {

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// Tracks the path through the document while nlohmann's parser reports events, to name duplicate keys.
class DuplicateKeyDetector {
 public:
  explicit DuplicateKeyDetector(std::string source) : source_(std::move(source)) {}

  bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        stack_.push_back(Frame{true, {}, {}, 0});
        break;
      case Json::parse_event_t::array_start:
        stack_.push_back(Frame{false, {}, {}, 0});
        break;
      case Json::parse_event_t::key: {
        Frame& frame = stack_.back();
        const auto& key = parsed.get_ref<const std::string&>();
        if (!frame.keys.insert(key).second) {
          throw ConfigError(path() + "/" + escape_pointer_token(key),
                            fmt::format("duplicate key '{}' in the same object", key), source_);
        }
        frame.key = key;
        break;
      }
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        stack_.pop_back();
        element_done();
        break;
      case Json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;
    std::size_t index;
  };

  void element_done() {
    if (!stack_.empty() && !stack_.back().object) {
      ++stack_.back().index;
    }
  }

  std::string path() const {
    std::string out;
    for (const auto& frame : stack_) {
      if (&frame == &stack_.back()) {
        break;
      }
      out += '/';
      out += frame.object ? escape_pointer_token(frame.key) : std::to_string(frame.index);
    }
    return out;
  }

  std::string source_;
  std::vector<Frame> stack_;
};

// nlohmann reports the byte offset of a syntax error; people want line and column.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1;
  std::size_t column = 1;
  const std::size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

std::string strip_nlohmann_prefix(const std::string& what) {
  // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." -> "syntax error ..."
  const auto colon = what.find(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

std::string format_number(double value) {
  if (std::floor(value) == value && std::abs(value) < 1e15) {
    return fmt::format("{}", static_cast<long long>(value));
  }
  return fmt::format("{}", value);
}

}  // namespace

Json parse_json(std::string_view text, const std::string& source) {
  try {
    return Json::parse(text.begin(), text.end(), DuplicateKeyDetector(source),
                       /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const Json::parse_error& e) {
    const auto [line, column] = line_and_column(text, e.byte);
    throw ConfigError("", fmt::format("invalid JSON at line {}, column {}: {}", line, column,
                                      strip_nlohmann_prefix(e.what())),
                      source);
  } catch (const Json::exception& e) {
    // The parser's other refusals carry no position: a number too large for a double, for one.
    throw ConfigError("", fmt::format("invalid JSON: {}", strip_nlohmann_prefix(e.what())), source);
  }
}

Json read_json_file(const std::filesystem::path& path) {
  return parse_json(read_file(path, "a JSON file"), path.string());
}

// ---------------------------------------------------------------------------------------------------------
// Range

Range& Range::above(double lo, bool open) {
  lo_ = lo;
  lo_open_ = open;
  return *this;
}

Range& Range::below(double hi, bool open) {
  hi_ = hi;
  hi_open_ = open;
  return *this;
}

bool Range::contains(double value) const {
  if (std::isnan(value)) {
    return false;
  }
  if (lo_ && (lo_open_ ? value <= *lo_ : value < *lo_)) {
    return false;
  }
  if (hi_ && (hi_open_ ? value >= *hi_ : value > *hi_)) {
    return false;
  }
  return true;
}

std::string Range::describe() const {
  if (lo_ && hi_) {
    return fmt::format("in {}{}, {}{}", lo_open_ ? '(' : '[', format_number(*lo_), format_number(*hi_),
                       hi_open_ ? ')' : ']');
  }
  if (lo_) {
    return fmt::format("{} {}", lo_open_ ? ">" : ">=", format_number(*lo_));
  }
  if (hi_) {
    return fmt::format("{} {}", hi_open_ ? "<" : "<=", format_number(*hi_));
  }
  return "any value";
}

// ---------------------------------------------------------------------------------------------------------
// Config

// The document and, per node, the keys that accessors have asked for: every view of a node shares them.
struct Config::Document {
  Document(Json root_, std::string source_) : root(std::move(root_)), source(std::move(source_)) {}

  std::set<std::string>* known_keys(const Json* node) const {
    std::lock_guard<std::mutex> lock(mutex);
    return &known[node];
  }

  Json root;
  std::string source;
  mutable std::mutex mutex;
  mutable std::map<const Json*, std::set<std::string>> known;
};

Config::Config() : Config(Json::object()) {}

Config::Config(Json document, std::string source)
    : document_(std::make_shared<const Document>(std::move(document), std::move(source))),
      node_(&document_->root),
      known_(document_->known_keys(node_)) {}

Config::Config(std::shared_ptr<const Document> document, const Json* node, std::string pointer)
    : document_(std::move(document)),
      node_(node),
      pointer_(std::move(pointer)),
      known_(document_->known_keys(node_)) {}

Config Config::load(const std::filesystem::path& file) { return Config(read_json_file(file), file.string()); }

Config Config::parse(std::string_view text, std::string source) {
  Json document = parse_json(text, source);
  return Config(std::move(document), std::move(source));
}

const std::string& Config::source() const { return document_->source; }

std::string Config::pointer_to(std::string_view key) const { return pointer_ + "/" + escape_pointer_token(key); }

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  if (node_->is_object()) {
    for (const auto& item : node_->items()) {
      out.push_back(item.key());
    }
  }
  return out;
}

void Config::expect_object() const {
  if (!node_->is_object()) {
    fail("expected an object, got " + detail::describe(*node_));
  }
}

bool Config::contains(const std::string& key) const {
  expect_object();
  {
    std::lock_guard<std::mutex> lock(document_->mutex);
    known_->insert(key);
  }
  return node_->contains(key);
}

bool Config::has_value(const std::string& key) const {
  if (!contains(key)) {
    return false;
  }
  return !(*node_)[key].is_null();
}

Config Config::require(const std::string& key) const {
  if (!contains(key)) {
    fail_at(key, "required key is missing");
  }
  return Config(document_, &(*node_)[key], pointer_to(key));
}

std::string Config::get_choice(const std::string& key, const std::string& fallback,
                               const std::vector<std::string>& choices) const {
  std::string value = get<std::string>(key, fallback);
  if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
    fail_at(key, fmt::format("'{}' is not one of {}{}", value, quoted_list(choices), did_you_mean(value, choices)));
  }
  return value;
}

Config Config::child(const std::string& key) const {
  Config value = require(key);
  if (!value.is_object() && !value.is_array()) {
    value.fail("expected an object or array, got " + detail::describe(value.json()));
  }
  return value;
}

std::optional<Config> Config::find_child(const std::string& key) const {
  if (!has_value(key)) {
    return std::nullopt;
  }
  return child(key);
}

Config Config::section(const std::string& key) const {
  if (!has_value(key)) {
    static const Json empty = Json::object();
    return Config(document_, &empty, pointer_to(key));
  }
  Config value = require(key);
  value.expect_object();
  return value;
}

Config Config::operator[](std::size_t index) const {
  if (!node_->is_array()) {
    fail("expected an array, got " + detail::describe(*node_));
  }
  if (index >= node_->size()) {
    fail(fmt::format("index {} is out of range for an array of {} element(s)", index, node_->size()));
  }
  return Config(document_, &(*node_)[index], pointer_ + "/" + std::to_string(index));
}

void Config::reject_unknown_keys() const {
  if (!node_->is_object()) {
    return;
  }
  std::vector<std::string> known;
  {
    std::lock_guard<std::mutex> lock(document_->mutex);
    known.assign(known_->begin(), known_->end());
  }
  for (const auto& item : node_->items()) {
    if (!std::binary_search(known.begin(), known.end(), item.key())) {
      fail_at(item.key(), fmt::format("unknown key '{}'{}; known keys here: {}", item.key(),
                                      did_you_mean(item.key(), known), quoted_list(known)));
    }
  }
}

void Config::fail(const std::string& reason) const { throw ConfigError(pointer_, reason, document_->source); }

void Config::fail_at(const std::string& key, const std::string& reason) const {
  throw ConfigError(pointer_to(key), reason, document_->source);
}

// ---------------------------------------------------------------------------------------------------------
// Conversions

namespace detail {

std::string describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return fmt::format("boolean {}", value.get<bool>());
    case Json::value_t::string: {
      std::string text = value.get<std::string>();
      if (text.size() > 40) {
        text = text.substr(0, 37) + "...";
      }
      return fmt::format("string \"{}\"", text);
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return fmt::format("number {}", value.dump());
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return fmt::format("an array of {} element(s)", value.size());
    default:
      return "a binary value";
  }
}

void convert(const Json& value, bool& out, const Config& at) {
  if (!value.is_boolean()) {
    at.fail("expected true or false, got " + describe(value));
  }
  out = value.get<bool>();
}

namespace {

// Integers may be written as 3 or 3.0, never as 3.5; the value must fit the target type.
template <typename Int>
Int to_integer(const Json& value, const Config& at) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) {
      at.fail(fmt::format("{} is too large (at most {})", v, std::numeric_limits<Int>::max()));
    }
    return static_cast<Int>(v);
  }
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (std::is_unsigned_v<Int> && v < 0) {
      at.fail(fmt::format("expected a non-negative integer, got {}", v));
    }
    if (!std::is_unsigned_v<Int> && (v < static_cast<std::int64_t>(std::numeric_limits<Int>::min()) ||
                                     v > static_cast<std::int64_t>(std::numeric_limits<Int>::max()))) {
      at.fail(fmt::format("{} is out of range for this setting", v));
    }
    return static_cast<Int>(v);
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (std::isfinite(v) && std::floor(v) == v && v >= static_cast<double>(std::numeric_limits<Int>::min()) &&
        v <= static_cast<double>(std::numeric_limits<Int>::max())) {
      return static_cast<Int>(v);
    }
  }
  at.fail("expected an integer, got " + describe(value));
}

}  // namespace

void convert(const Json& value, std::int32_t& out, const Config& at) { out = to_integer<std::int32_t>(value, at); }
void convert(const Json& value, std::int64_t& out, const Config& at) { out = to_integer<std::int64_t>(value, at); }
void convert(const Json& value, std::uint64_t& out, const Config& at) {
  out = to_integer<std::uint64_t>(value, at);
}

void convert(const Json& value, double& out, const Config& at) {
  if (!value.is_number()) {
    at.fail("expected a number, got " + describe(value));
  }
  out = value.get<double>();
}

void convert(const Json& value, float& out, const Config& at) {
  double v = 0.0;
  convert(value, v, at);
  if (std::abs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
    at.fail(fmt::format("{} does not fit a 32-bit float", v));
  }
  out = static_cast<float>(v);
}

void convert(const Json& value, std::string& out, const Config& at) {
  if (!value.is_string()) {
    at.fail("expected a string, got " + describe(value));
  }
  out = value.get<std::string>();
}

void convert(const Json& value, Json& out, const Config& /*at*/) { out = value; }

void check_range(double value, const Range& range, const Config& at) {
  if (!range.contains(value)) {
    at.fail(fmt::format("must be {}, got {}", range.describe(), format_number(value)));
  }
}

}  // namespace detail
// ------------------------------------------------------------------------------------------- declared options fields

FieldRule FieldRule::one_of(std::vector<std::string> choices) {
  FieldRule rule;
  rule.choices_ = std::move(choices);
  return rule;
}

FieldRule FieldRule::required() {
  FieldRule rule;
  rule.required_ = true;
  return rule;
}

FieldRule FieldRule::required(Range range) {
  FieldRule rule(std::move(range));
  rule.required_ = true;
  return rule;
}

FieldRule FieldRule::non_empty(std::string message) const {
  FieldRule rule = *this;
  rule.empty_message_ = std::move(message);
  return rule;
}

FieldRule FieldRule::size(std::size_t count) const {
  FieldRule rule = *this;
  rule.size_ = count;
  return rule;
}

std::string FieldRule::describe() const {
  std::string text;
  if (range_) {
    text = range_->describe();
  } else if (!choices_.empty()) {
    text = "one of " + quoted_list(choices_);
  }
  if (size_) {
    text = fmt::format("{} values{}{}", *size_, text.empty() ? "" : ", each ", text);
  } else if (!empty_message_.empty()) {
    text = fmt::format("non-empty{}{}", text.empty() ? "" : ", each ", text);
  }
  if (required_) {
    return text.empty() ? "required" : "required, " + text;
  }
  return text;
}

namespace detail {

namespace {

std::string choice_error(const std::string& value, const FieldRule& rule) {
  return fmt::format("'{}' is not one of {}{}", value, quoted_list(rule.choices()), did_you_mean(value, rule.choices()));
}

bool is_choice(const std::string& value, const FieldRule& rule) {
  return rule.choices().empty() || std::find(rule.choices().begin(), rule.choices().end(), value) != rule.choices().end();
}

}  // namespace

void check_field(const Config& parent, const std::string& key, double value, const FieldRule& rule) {
  if (rule.range() && !rule.range()->contains(value)) {
    parent.fail_at(key, fmt::format("must be {}, got {}", rule.range()->describe(), format_number(value)));
  }
}

void check_field(const Config& parent, const std::string& key, const std::string& value, const FieldRule& rule) {
  if (!is_choice(value, rule)) {
    parent.fail_at(key, choice_error(value, rule));
  }
}

void check_element(const Config& element, double value, const FieldRule& rule) {
  if (rule.range()) {
    check_range(value, *rule.range(), element);
  }
}

void check_element(const Config& element, const std::string& value, const FieldRule& rule) {
  if (!is_choice(value, rule)) {
    element.fail(choice_error(value, rule));
  }
}

void check_size(const Config& parent, const std::string& key, std::size_t size, const FieldRule& rule) {
  if (!rule.empty_message().empty() && size == 0) {
    parent.fail_at(key, rule.empty_message());
  }
  if (rule.exact_size() && size != *rule.exact_size()) {
    parent.fail_at(key, fmt::format("expected {} values, got {}", *rule.exact_size(), size));
  }
}

void missing_field(const Config& parent, const std::string& key) { parent.fail_at(key, "required key is missing"); }

}  // namespace detail

std::filesystem::path FieldCodec<std::filesystem::path>::read(const Config& parent, const std::string& key) {
  const std::string text = parent.get<std::string>(key);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "${") == 0) {
      const auto close = text.find('}', i);
      if (close == std::string::npos) {
        parent.fail_at(key, fmt::format("unterminated '${{' in \"{}\"", text));
      }
      const std::string name = text.substr(i + 2, close - i - 2);
      const char* value = std::getenv(name.c_str());
      if (value == nullptr || *value == '\0') {
        parent.fail_at(key,
                       fmt::format("the path \"{}\" uses ${{{}}}, which is not set in the environment", text, name));
      }
      out += value;
      i = close;
    } else {
      out += text[i];
    }
  }
  return std::filesystem::path(out);
}

}  // namespace finfuse
