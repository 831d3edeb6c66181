// What happens to bad input records: strict mode (the default) stops at the first with its DataError;
// lenient mode skips them, counts them, and reports them at the end.
#pragma once

#include "finfuse/core/error.h"
#include "finfuse/core/options.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse::data {

enum class ErrorMode { strict, lenient };

/// "strict" / "lenient"; throws finfuse::Error otherwise.
ErrorMode parse_error_mode(std::string_view name);
std::string to_string(ErrorMode mode);

class BadRecordLog {
 public:
  explicit BadRecordLog(ErrorMode mode = ErrorMode::strict, std::size_t keep = 20) : mode_(mode), keep_(keep) {}

  /// Strict: throws `error`. Lenient: counts it and keeps the first few for the report.
  void add(const DataError& error);

  ErrorMode mode() const { return mode_; }
  std::int64_t count() const { return count_; }
  const std::vector<DataError>& examples() const { return examples_; }

  /// Logs "N bad record(s) skipped in <what>" with the kept examples as a warning; nothing when there were none.
  void log_summary(std::string_view what) const;

 private:
  ErrorMode mode_;
  std::size_t keep_;
  std::int64_t count_ = 0;
  std::vector<DataError> examples_;
};

}  // namespace finfuse::data

namespace finfuse {

/// Options fields of type ErrorMode read and write "strict" / "lenient".
template <>
struct FieldCodec<data::ErrorMode> : EnumFieldCodec<data::ErrorMode, FieldCodec<data::ErrorMode>> {
  static const std::vector<std::pair<data::ErrorMode, std::string>>& names() {
    static const std::vector<std::pair<data::ErrorMode, std::string>> table = {{data::ErrorMode::strict, "strict"},
                                                                               {data::ErrorMode::lenient, "lenient"}};
    return table;
  }
};

}  // namespace finfuse
