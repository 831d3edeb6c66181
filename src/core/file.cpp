#include "finfuse/core/file.h"

#include "finfuse/core/error.h"

#include <fmt/format.h>

#include <fstream>

namespace finfuse {

std::string read_file(const std::filesystem::path& path, std::string_view what, std::int64_t max_bytes,
                      std::string_view limit_name) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(path.string(), "no such file");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw IoError(path.string(), fmt::format("is a directory, expected {}", what));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    throw IoError(path.string(), "cannot determine the file size: " + ec.message());
  }
  if (max_bytes >= 0 && static_cast<std::int64_t>(size) > max_bytes) {
    throw DataError(path.string(), 0, "",
                    fmt::format("the file has {} bytes, more than the limit of {} ({})", size, max_bytes, limit_name));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string(), "cannot open for reading");
  }
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size)) {
    throw IoError(path.string(), "read error");
  }
  return text;
}

}  // namespace finfuse
