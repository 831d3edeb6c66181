#include "finfuse/core/error.h"

#include <fmt/format.h>

#include <utility>

namespace finfuse {
namespace {

std::string config_message(const std::string& source, const std::string& pointer, const std::string& reason) {
  const std::string where = pointer.empty() ? std::string("/") : pointer;
  if (source.empty()) {
    return fmt::format("{}: {}", where, reason);
  }
  return fmt::format("{}: {}: {}", source, where, reason);
}

std::string data_message(const std::string& file, std::int64_t record, const std::string& field,
                         const std::string& reason) {
  std::string where = file.empty() ? std::string("<input>") : file;
  if (record > 0) {
    where += fmt::format(":{}", record);
  }
  if (!field.empty()) {
    return fmt::format("{}: field '{}': {}", where, field, reason);
  }
  return fmt::format("{}: {}", where, reason);
}

}  // namespace

ConfigError::ConfigError(std::string pointer, std::string reason, std::string source)
    : Error(config_message(source, pointer, reason)),
      pointer_(std::move(pointer)),
      reason_(std::move(reason)),
      source_(std::move(source)) {}

DataError::DataError(std::string file, std::int64_t record, std::string field, std::string reason)
    : Error(data_message(file, record, field, reason)),
      file_(std::move(file)),
      record_(record),
      field_(std::move(field)),
      reason_(std::move(reason)) {}

IoError::IoError(std::string path, std::string reason)
    : Error(fmt::format("{}: {}", path, reason)), path_(std::move(path)) {}

}  // namespace finfuse
