// Reading whole input files with the errors finfuse promises: the path and what is wrong, never a crash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace finfuse {

/// The contents of `path`. IoError when it is missing ("no such file"), a directory ("is a directory, expected
/// <what>") or unreadable; DataError when it has more than `max_bytes` bytes (negative: no limit), naming the limit
/// `limit_name`, before anything is read.
std::string read_file(const std::filesystem::path& path, std::string_view what = "a file", std::int64_t max_bytes = -1,
                      std::string_view limit_name = {});

}  // namespace finfuse
