#include "finfuse/io/format_version.h"

#include "finfuse/core/error.h"
#include "finfuse/version.h"

#include <fmt/format.h>

#include <cctype>

namespace finfuse::io {

std::string FormatVersion::tag() const { return fmt::format("{}-{}", name, current); }

int FormatVersion::check(const std::string& tag, const std::string& file, const std::string& field,
                         const std::string& written_by) const {
  const std::string prefix = std::string(name) + "-";
  const auto readable = oldest_readable == current ? fmt::format("version {}", current)
                                                   : fmt::format("versions {} to {}", oldest_readable, current);
  const auto by = written_by.empty() ? std::string() : fmt::format(" by finfuse {}", written_by);
  int number = -1;
  if (tag.size() > prefix.size() && tag.size() <= prefix.size() + 6 && tag.compare(0, prefix.size(), prefix) == 0) {
    number = 0;
    for (std::size_t i = prefix.size(); i < tag.size() && number >= 0; ++i) {
      number = std::isdigit(static_cast<unsigned char>(tag[i])) != 0 ? number * 10 + (tag[i] - '0') : -1;
    }
  }
  if (number < 0) {
    throw DataError(file, 0, field,
                    fmt::format("not a {} file (format '{}'{}); finfuse {} reads {} {}", name, tag, by, version(),
                                name, readable));
  }
  if (number > current) {
    throw DataError(file, 0, field,
                    fmt::format("written in {} format version {}{}, newer than this finfuse {} reads ({}); read it "
                                "with the finfuse that wrote it or a later one",
                                name, number, by, version(), readable));
  }
  if (number < oldest_readable) {
    throw DataError(file, 0, field,
                    fmt::format("written in {} format version {}{}, which finfuse {} no longer reads ({}); see "
                                "docs/reliability.md for the last finfuse that reads it",
                                name, number, by, version(), readable));
  }
  return number;
}

}  // namespace finfuse::io
