// Options structs whose fields are declared once. A field list names each field's type, name, default, rule and
// meaning; FINFUSE_OPTIONS turns it into LibTorch-style chainable accessors (as TORCH_ARG does), reading from a
// Config with JSON-pointer errors, writing to JSON, and the table the configuration reference is checked against:
//
//   struct RnnEncoderOptions {
//   #define FINFUSE_RNN_ENCODER_FIELDS(F)                                                          (backslash)
//     F(std::string, cell, "lstm", ::finfuse::FieldRule::one_of({"lstm", "gru"}), "recurrent cell") (backslash)
//     F(std::int64_t, hidden, 64, ::finfuse::Range::closed(1, 65536), "hidden units")
//     FINFUSE_OPTIONS(RnnEncoderOptions, FINFUSE_RNN_ENCODER_FIELDS)
//   #undef FINFUSE_RNN_ENCODER_FIELDS
//   };
//
//   auto options = RnnEncoderOptions().cell("gru").hidden(32);
//   auto same = RnnEncoderOptions::from_config(Config(options.to_json()));
//
// A default containing commas is written in parentheses: (std::vector<std::int64_t>{32, 64}). A field without a
// default that the configuration must give uses FieldRule::required(); std::optional<T> fields read null or absence as
// nullopt. A struct may declare `void validate(const Config& config)` for checks across fields (and for what a field
// list cannot declare, such as sections named by another field); from_config calls it after reading the fields and
// before rejecting unknown keys (config points at the struct's object, for errors). A struct may also declare
// `void extend_json(Json& out) const` to write what validate() read.
//
// A field may itself be an options struct (a nested JSON object): it is read with its own from_config over the
// field's current value and written with its to_json.
//
// A field of a type of one's own (an enum, a character) is read and written by a specialisation of FieldCodec<T>.
// std::filesystem::path has one: a string in which "${VAR}" reads the environment (relative paths are kept as
// written; whoever knows the base anchors them). A struct may declare `static void extend_fields(std::vector<FieldInfo>&
// out)` to list, after its own fields, those its validate() reads.
//
// Data options are plain aggregates that programs fill in field by field (`data.dataset.modalities = {"price"}`):
// FINFUSE_FIELDS declares the same field list as public data members instead of chainable accessors, with the same
// from_config(), to_json() and fields().
#pragma once

#include "finfuse/core/config.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace finfuse {

/// What a field's value must be, beyond its type: within a numeric range, one of a set of strings, or given at all.
class FieldRule {
 public:
  /// Any value of the field's type.
  FieldRule() = default;
  /// A number within `range` (each element, for a list).
  FieldRule(Range range) : range_(std::move(range)) {}  // NOLINT: implicit, so a Range reads as a rule
  /// One of `choices` (a string field).
  static FieldRule one_of(std::vector<std::string> choices);
  /// The configuration must give the field.
  static FieldRule required();
  /// The configuration must give the field, a number within `range`.
  static FieldRule required(Range range);
  /// A list field: at least one element (`message` is the error, e.g. "must name at least one layer width").
  FieldRule non_empty(std::string message = "must not be empty") const;
  /// A list field: exactly `count` elements.
  FieldRule size(std::size_t count) const;

  const std::optional<Range>& range() const { return range_; }
  const std::vector<std::string>& choices() const { return choices_; }
  bool is_required() const { return required_; }
  /// The error for an empty list ("" when empty lists are allowed).
  const std::string& empty_message() const { return empty_message_; }
  const std::optional<std::size_t>& exact_size() const { return size_; }
  /// "> 0", "one of 'lstm', 'gru'", "" for any value; "required" prefixed for required fields.
  std::string describe() const;

 private:
  std::optional<Range> range_;
  std::vector<std::string> choices_;
  bool required_ = false;
  std::string empty_message_;
  std::optional<std::size_t> size_;
};

/// One declared field, as the configuration reference lists it.
struct FieldInfo {
  std::string name;
  /// "integer", "number", "bool", "string", "list of integers", "object", ...
  std::string type;
  /// The default as JSON (null for a required field or an empty optional).
  Json default_value;
  FieldRule rule;
  std::string doc;
};

/// How fields of type T are read, written and described, for types beyond numbers, strings, lists and options
/// structs (an enum read from its name, a character). A specialisation declares
///   static std::string type_name();                                the type as the reference shows it
///   static T read(const Config& parent, const std::string& key);    the value at `key`; ConfigError at the key
///   static Json write(const T& value);
///   static FieldRule rule();                                        the allowed values, for the reference
/// The primary template declares nothing: T is then not a codec type.
template <typename T>
struct FieldCodec {};

/// A component's options as its registry reads them back: the fields plus "type" (the registered name).
inline Json typed_json(const std::string& type, Json fields) {
  fields["type"] = type;
  return fields;
}

namespace detail {

/// Whether FieldCodec<T> is specialised.
template <typename T, typename = void>
struct HasCodec : std::false_type {};
template <typename T>
struct HasCodec<T, std::void_t<decltype(FieldCodec<T>::write(std::declval<const T&>()))>> : std::true_type {};
template <typename T>
inline constexpr bool has_codec_v = HasCodec<T>::value;

/// Whether T is an options struct: T::from_config(const Config&) and to_json().
template <typename T, typename = void>
struct IsOptions : std::false_type {};
template <typename T>
struct IsOptions<T, std::void_t<decltype(T::from_config(std::declval<const Config&>())),
                                decltype(std::declval<const T&>().to_json())>> : std::true_type {};
template <typename T>
inline constexpr bool is_options_v = IsOptions<T>::value;

/// Reads an options struct over `base` where it can (FINFUSE_OPTIONS / FINFUSE_FIELDS), from its defaults otherwise.
template <typename T>
auto read_options(const Config& config, const T& base, int) -> decltype(T::from_config(config, base)) {
  return T::from_config(config, base);
}
template <typename T>
T read_options(const Config& config, const T&, long) {
  return T::from_config(config);
}

template <typename T>
std::string type_name();

template <typename T>
struct FieldTraits {
  static std::string name() {
    if constexpr (has_codec_v<T>) {
      return FieldCodec<T>::type_name();
    } else if constexpr (is_options_v<T>) {
      return "object";
    } else if constexpr (std::is_same_v<T, bool>) {
      return "bool";
    } else if constexpr (std::is_integral_v<T>) {
      return "integer";
    } else if constexpr (std::is_floating_point_v<T>) {
      return "number";
    } else if constexpr (std::is_same_v<T, std::string>) {
      return "string";
    } else if constexpr (std::is_same_v<T, Json>) {
      return "JSON value";
    } else {
      static_assert(sizeof(T) == 0, "unsupported options field type");
      return {};
    }
  }
};
template <typename T>
struct FieldTraits<std::vector<T>> {
  static std::string name() {
    const std::string element = FieldTraits<T>::name();
    return "list of " + (element == "bool" ? std::string("bools") : element + "s");
  }
};
template <typename T>
struct FieldTraits<std::optional<T>> {
  static std::string name() { return type_name<T>() + " or null"; }
};

/// The type as the reference shows it: the codec's name where T has one.
template <typename T>
std::string type_name() {
  if constexpr (has_codec_v<T>) {
    return FieldCodec<T>::type_name();
  } else {
    return FieldTraits<T>::name();
  }
}

/// Checks a field's value against its rule, failing at `key` of `parent`.
void check_field(const Config& parent, const std::string& key, double value, const FieldRule& rule);
void check_field(const Config& parent, const std::string& key, const std::string& value, const FieldRule& rule);
/// Checks one element of a list field, failing at the element's own node.
void check_element(const Config& element, double value, const FieldRule& rule);
void check_element(const Config& element, const std::string& value, const FieldRule& rule);
/// Checks a list field's length.
void check_size(const Config& parent, const std::string& key, std::size_t size, const FieldRule& rule);
/// Raises the "missing required field" error for `key`.
[[noreturn]] void missing_field(const Config& parent, const std::string& key);

template <typename T>
void check_value(const Config& parent, const std::string& key, const T& value, const FieldRule& rule) {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, Json> || is_options_v<T>) {
    // No rule beyond the type (a nested struct checks its own fields).
  } else if constexpr (std::is_arithmetic_v<T>) {
    check_field(parent, key, static_cast<double>(value), rule);
  } else if constexpr (std::is_same_v<T, std::string>) {
    check_field(parent, key, value, rule);
  } else {
    // A list: its length, then each element against the rule.
    check_size(parent, key, value.size(), rule);
    const Config list = parent.child(key);
    for (std::size_t i = 0; i < value.size(); ++i) {
      using Element = typename T::value_type;
      if constexpr (std::is_arithmetic_v<Element> && !std::is_same_v<Element, bool>) {
        check_element(list[i], static_cast<double>(value[i]), rule);
      } else if constexpr (std::is_same_v<Element, std::string>) {
        check_element(list[i], value[i], rule);
      }
    }
  }
}

/// Reads field `key` of `config` into `out` (kept as is when absent or null, unless required), then checks its rule.
template <typename T>
void read_field(const Config& config, const std::string& key, T& out, const FieldRule& rule) {
  if constexpr (is_options_v<T>) {
    out = read_options(config.section(key), out, 0);
  } else if constexpr (has_codec_v<T>) {
    if (!config.contains(key) || config.json().at(key).is_null()) {
      if (rule.is_required()) {
        missing_field(config, key);
      }
      return;
    }
    out = FieldCodec<T>::read(config, key);
  } else {
    if (!config.contains(key) || config.json().at(key).is_null()) {
      if (rule.is_required()) {
        missing_field(config, key);
      }
      return;
    }
    out = config.get<T>(key);
    check_value(config, key, out, rule);
  }
}
template <typename T>
void read_field(const Config& config, const std::string& key, std::optional<T>& out, const FieldRule& rule) {
  if (!config.contains(key) || config.json().at(key).is_null()) {
    if (rule.is_required()) {
      missing_field(config, key);
    }
    out.reset();
    return;
  }
  if constexpr (is_options_v<T>) {
    out = T::from_config(config.child(key));
  } else if constexpr (has_codec_v<T>) {
    out = FieldCodec<T>::read(config, key);
  } else {
    T value = config.get<T>(key);
    check_value(config, key, value, rule);
    out = std::move(value);
  }
}

template <typename T>
Json field_json(const T& value) {
  if constexpr (has_codec_v<T>) {
    return FieldCodec<T>::write(value);
  } else if constexpr (is_options_v<T>) {
    return value.to_json();
  } else {
    return Json(value);
  }
}
template <typename T>
Json field_json(const std::optional<T>& value) {
  return value ? field_json(*value) : Json();
}

template <typename T>
FieldInfo field_info(const char* name, const T& default_value, const FieldRule& rule, const char* doc) {
  FieldRule shown = rule;
  if constexpr (has_codec_v<T>) {
    shown = FieldCodec<T>::rule();
  }
  return FieldInfo{name, type_name<T>(), rule.is_required() ? Json() : field_json(default_value), shown, doc};
}

/// Calls options.validate(config) where the options struct declares it.
template <typename Options>
auto validate_options(Options& options, const Config& config, int) -> decltype(options.validate(config), void()) {
  options.validate(config);
}
template <typename Options>
void validate_options(Options&, const Config&, long) {}
/// Calls options.extend_json(out) where the options struct declares it.
template <typename Options>
auto extend_json(const Options& options, Json& out, int) -> decltype(options.extend_json(out), void()) {
  options.extend_json(out);
}
template <typename Options>
void extend_json(const Options&, Json&, long) {}
/// Calls Options::extend_fields(out) where the options struct declares it.
template <typename Options>
auto extend_fields(std::vector<FieldInfo>& out, int) -> decltype(Options::extend_fields(out), void()) {
  Options::extend_fields(out);
}
template <typename Options>
void extend_fields(std::vector<FieldInfo>&, long) {}

}  // namespace detail
/// The FieldCodec of an enum read and written by name: `template <> struct FieldCodec<E> : EnumFieldCodec<E,
/// FieldCodec<E>>` with `static const std::vector<std::pair<E, std::string>>& names()`.
template <typename E, typename Self>
struct EnumFieldCodec {
  static std::string type_name() { return "string"; }
  static E read(const Config& parent, const std::string& key) {
    const auto value = parent.get<std::string>(key);
    for (const auto& [e, name] : Self::names()) {
      if (name == value) {
        return e;
      }
    }
    detail::check_field(parent, key, value, rule());  // not one of the names: throws, listing them
    parent.fail_at(key, "unknown value");
  }
  static Json write(const E& value) {
    for (const auto& [e, name] : Self::names()) {
      if (e == value) {
        return name;
      }
    }
    return Json();
  }
  static FieldRule rule() {
    std::vector<std::string> names;
    for (const auto& entry : Self::names()) {
      names.push_back(entry.second);
    }
    return FieldRule::one_of(std::move(names));
  }
};

/// A path field: a string in which "${VAR}" is replaced by the environment's VAR (an error at the field when VAR is not
/// set). A relative path is kept as written.
template <>
struct FieldCodec<std::filesystem::path> {
  static std::string type_name() { return "path"; }
  static std::filesystem::path read(const Config& parent, const std::string& key);
  static Json write(const std::filesystem::path& value) { return value.string(); }
  static FieldRule rule() { return {}; }
};

}  // namespace finfuse

// One field of a FINFUSE_OPTIONS list: accessors as TORCH_ARG writes them, and the member with its default.
#define FINFUSE_OPTIONS_MEMBER_(T, name, default_value, rule, doc) \
 public:                                                           \
  auto name(const T& new_##name)->decltype(*this) {                \
    this->name##_ = new_##name;                                    \
    return *this;                                                  \
  }                                                                \
  auto name(T&& new_##name)->decltype(*this) {                     \
    this->name##_ = std::move(new_##name);                         \
    return *this;                                                  \
  }                                                                \
  const T& name() const noexcept { return this->name##_; }         \
  T& name() noexcept { return this->name##_; }                     \
                                                                   \
 private:                                                          \
  T name##_ = default_value;

#define FINFUSE_OPTIONS_READ_(T, name, default_value, rule, doc) \
  ::finfuse::detail::read_field(config, #name, options.name##_, rule);
#define FINFUSE_OPTIONS_WRITE_(T, name, default_value, rule, doc) \
  out[#name] = ::finfuse::detail::field_json(this->name##_);
#define FINFUSE_OPTIONS_INFO_(T, name, default_value, rule, doc) \
  out.push_back(::finfuse::detail::field_info(#name, defaults.name##_, rule, doc));

// from_config(), to_json() and fields() of Self over FIELDS, with READ, WRITE and INFO naming how one field is read,
// written and described (the FINFUSE_OPTIONS and FINFUSE_FIELDS spellings of a member differ).
#define FINFUSE_OPTIONS_METHODS_(Self, FIELDS, READ, WRITE, INFO)                       \
  /** Reads every field (absent ones keep their defaults); unknown keys are errors. */ \
  static Self from_config(const ::finfuse::Config& config) { return from_config(config, Self()); } \
  /** Reads the fields the configuration gives over `options` (overrides of a base). */ \
  static Self from_config(const ::finfuse::Config& config, Self options) {            \
    FIELDS(READ)                                                                      \
    ::finfuse::detail::validate_options(options, config, 0);                          \
    config.reject_unknown_keys();                                                     \
    return options;                                                                   \
  }                                                                                   \
  /** Every field, as from_config() reads it back. */                                 \
  ::finfuse::Json to_json() const {                                                   \
    ::finfuse::Json out = ::finfuse::Json::object();                                  \
    FIELDS(WRITE)                                                                     \
    ::finfuse::detail::extend_json(*this, out, 0);                                    \
    return out;                                                                       \
  }                                                                                   \
  /** The declared fields, in declaration order. */                                   \
  static const std::vector<::finfuse::FieldInfo>& fields() {                          \
    static const std::vector<::finfuse::FieldInfo> table = [] {                       \
      const Self defaults;                                                            \
      std::vector<::finfuse::FieldInfo> out;                                          \
      FIELDS(INFO)                                                                    \
      ::finfuse::detail::extend_fields<Self>(out, 0);                                 \
      return out;                                                                     \
    }();                                                                              \
    return table;                                                                     \
  }

/// Declares the fields of FIELDS(F) in the options struct Self (see the top of this file), with from_config(),
/// to_json() and fields(). Leaves the access at public.
#define FINFUSE_OPTIONS(Self, FIELDS) \
  FIELDS(FINFUSE_OPTIONS_MEMBER_)     \
                                      \
 public:                              \
  FINFUSE_OPTIONS_METHODS_(Self, FIELDS, FINFUSE_OPTIONS_READ_, FINFUSE_OPTIONS_WRITE_, FINFUSE_OPTIONS_INFO_)

// One field of a FINFUSE_FIELDS list: a public data member with its default.
#define FINFUSE_FIELDS_MEMBER_(T, name, default_value, rule, doc) T name = default_value;
#define FINFUSE_FIELDS_READ_(T, name, default_value, rule, doc) \
  ::finfuse::detail::read_field(config, #name, options.name, rule);
#define FINFUSE_FIELDS_WRITE_(T, name, default_value, rule, doc) out[#name] = ::finfuse::detail::field_json(this->name);
#define FINFUSE_FIELDS_INFO_(T, name, default_value, rule, doc) \
  out.push_back(::finfuse::detail::field_info(#name, defaults.name, rule, doc));

/// Declares the fields of FIELDS(F) as public data members of the aggregate Self (see the top of this file), with
/// from_config(), to_json() and fields().
#define FINFUSE_FIELDS(Self, FIELDS) \
  FIELDS(FINFUSE_FIELDS_MEMBER_)     \
  FINFUSE_OPTIONS_METHODS_(Self, FIELDS, FINFUSE_FIELDS_READ_, FINFUSE_FIELDS_WRITE_, FINFUSE_FIELDS_INFO_)
