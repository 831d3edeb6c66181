// Configuration: JSON documents (comments allowed) read through typed, range-checked accessors that know the
// JSON pointer of every value, so a bad value is reported as "file: /model/hidden: must be > 0, got -3",
// and keys nobody asked for are rejected with a "did you mean" suggestion.
#pragma once

#include "finfuse/core/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace finfuse {

using Json = nlohmann::json;

/// Parses JSON text. Comments (// and /* */) are allowed; duplicate keys in an object are an error.
/// Errors are ConfigError naming `source`, the line and column, or the JSON pointer of the duplicate.
Json parse_json(std::string_view text, const std::string& source = {});

/// Reads and parses a JSON file (see parse_json). A missing or unreadable file is an IoError.
Json read_json_file(const std::filesystem::path& path);

/// Bounds for a numeric configuration value.
class Range {
 public:
  static Range any() { return Range(); }
  static Range positive() { return Range().above(0.0, true); }
  static Range non_negative() { return Range().above(0.0, false); }
  static Range at_least(double lo) { return Range().above(lo, false); }
  static Range closed(double lo, double hi) { return Range().above(lo, false).below(hi, false); }
  static Range half_open(double lo, double hi) { return Range().above(lo, false).below(hi, true); }

  bool contains(double value) const;
  /// "> 0", ">= 1", "in [0, 1)", "any value".
  std::string describe() const;

 private:
  Range& above(double lo, bool open);
  Range& below(double hi, bool open);

  std::optional<double> lo_;
  std::optional<double> hi_;
  bool lo_open_ = false;
  bool hi_open_ = false;
};

class Config;

namespace detail {
// Conversions from a JSON value to the accessor types; each throws ConfigError at `at`'s pointer.
void convert(const Json& value, bool& out, const Config& at);
void convert(const Json& value, std::int32_t& out, const Config& at);
void convert(const Json& value, std::int64_t& out, const Config& at);
void convert(const Json& value, std::uint64_t& out, const Config& at);
void convert(const Json& value, double& out, const Config& at);
void convert(const Json& value, float& out, const Config& at);
void convert(const Json& value, std::string& out, const Config& at);
void convert(const Json& value, Json& out, const Config& at);
template <typename T>
void convert(const Json& value, std::vector<T>& out, const Config& at);
void check_range(double value, const Range& range, const Config& at);
/// "string \"abc\"", "number 3.5", "an object" -- a short description of a value for error messages.
std::string describe(const Json& value);
}  // namespace detail

/// A read-only view of one node of a JSON document with its JSON pointer. Accessing a key marks it as
/// known; reject_unknown_keys() then reports every key of the object that no accessor asked for.
/// Views are cheap to copy; all views of one node share the document and the record of known keys.
class Config {
 public:
  /// An empty object.
  Config();
  explicit Config(Json document, std::string source = {});

  /// Loads a JSON file (comments allowed).
  static Config load(const std::filesystem::path& file);
  /// Parses JSON text; `source`, when given, names it in error messages.
  static Config parse(std::string_view text, std::string source = {});

  const Json& json() const { return *node_; }
  /// The JSON pointer of this node: "" for the root, "/model/encoders/text" below it.
  const std::string& pointer() const { return pointer_; }
  /// The file or name the document came from ("" when built in code).
  const std::string& source() const;
  /// The JSON pointer of `key` inside this object.
  std::string pointer_to(std::string_view key) const;

  bool is_object() const { return node_->is_object(); }
  bool is_array() const { return node_->is_array(); }
  bool is_null() const { return node_->is_null(); }
  /// Number of elements of an array or object, 0 for a scalar.
  std::size_t size() const { return node_->size(); }
  /// Keys of an object, sorted.
  std::vector<std::string> keys() const;

  /// Whether the object has `key`. Marks `key` as known.
  bool contains(const std::string& key) const;

  /// A required value. Throws ConfigError when it is missing or of the wrong type.
  template <typename T>
  T get(const std::string& key) const {
    const Config value = require(key);
    T out{};
    detail::convert(value.json(), out, value);
    return out;
  }
  /// A required numeric value within `range`.
  template <typename T>
  T get(const std::string& key, const Range& range) const {
    T out = get<T>(key);
    detail::check_range(static_cast<double>(out), range, require(key));
    return out;
  }
  /// An optional value: `fallback` when the key is absent (or null).
  template <typename T, typename = std::enable_if_t<!std::is_same_v<std::decay_t<T>, Range>>>
  T get(const std::string& key, const T& fallback) const {
    if (!has_value(key)) {
      return fallback;
    }
    return get<T>(key);
  }
  /// An optional numeric value within `range` (the range is checked on given values only).
  template <typename T>
  T get(const std::string& key, const T& fallback, const Range& range) const {
    if (!has_value(key)) {
      return fallback;
    }
    return get<T>(key, range);
  }
  std::string get(const std::string& key, const char* fallback) const {
    return get<std::string>(key, std::string(fallback));
  }
  /// A string that must be one of `choices`; otherwise the error lists them with a suggestion.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices) const;

  /// A required child object or array.
  Config child(const std::string& key) const;
  /// A child object or array, or nothing when the key is absent or null.
  std::optional<Config> find_child(const std::string& key) const;
  /// A child object, or an empty object (at the same pointer) when absent: for optional sections.
  Config section(const std::string& key) const;
  /// An element of an array.
  Config operator[](std::size_t index) const;

  /// This node's value converted to T.
  template <typename T>
  T as() const {
    T out{};
    detail::convert(*node_, out, *this);
    return out;
  }

  /// Throws ConfigError for the first key of this object that no accessor asked for, with a suggestion.
  void reject_unknown_keys() const;

  /// Throws ConfigError at this node, or at `key` inside it.
  [[noreturn]] void fail(const std::string& reason) const;
  [[noreturn]] void fail_at(const std::string& key, const std::string& reason) const;

 private:
  struct Document;
  Config(std::shared_ptr<const Document> document, const Json* node, std::string pointer);

  bool has_value(const std::string& key) const;
  Config require(const std::string& key) const;
  void expect_object() const;

  std::shared_ptr<const Document> document_;
  const Json* node_;
  std::string pointer_;
  std::set<std::string>* known_;  // owned by the document, shared by every view of this node
};

namespace detail {
template <typename T>
void convert(const Json& value, std::vector<T>& out, const Config& at) {
  if (!value.is_array()) {
    at.fail("expected an array, got " + describe(value));
  }
  out.clear();
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    T element{};
    convert(value[i], element, at[i]);
    out.push_back(std::move(element));
  }
}
}  // namespace detail

}  // namespace finfuse
