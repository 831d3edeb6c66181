#include "finfuse/core/check.h"

#include <fmt/format.h>

#include <cstring>

namespace finfuse::detail {

std::string check_message(const char* condition, const char* file, int line, const std::string& message) {
  // Only the file name: absolute build paths say nothing to the reader.
  const char* slash = std::strrchr(file, '/');
  const char* base = slash != nullptr ? slash + 1 : file;
  if (message.empty()) {
    return fmt::format("check `{}` failed ({}:{})", condition, base, line);
  }
  return fmt::format("{} (check `{}` failed at {}:{})", message, condition, base, line);
}

}  // namespace finfuse::detail
