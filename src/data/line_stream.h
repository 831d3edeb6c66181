#pragma once

// The lines of a text file read a block at a time, for the readers that scan lines themselves (IntradayPanel's, the
// price panel's count of rows). Not installed.

#include "finfuse/core/error.h"
#include "finfuse/core/file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse::data::internal {

// The lines of a file, read a block at a time. A line is a view valid until the next call.
class LineStream {
 public:
  /// `what` names the file in the error when it is missing ("an intraday bar file").
  LineStream(const std::filesystem::path& path, std::string_view what) : source_(path.string()) {
    require_file(path, what);
    in_.open(path, std::ios::binary);
    if (!in_) {
      throw IoError(source_, "cannot open for reading");
    }
    // A block at a time, or the whole of a smaller file (grown when a line does not fit).
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    buffer_.resize(ec ? kBlock : static_cast<std::size_t>(std::clamp<std::uintmax_t>(size + 1, 4096, kBlock)));
  }

  /// The next line without its line end; false at the end of the file.
  bool next(std::string_view& line) {
    for (;;) {
      const char* start = buffer_.data() + pos_;
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', size_ - pos_));
      if (newline != nullptr || (eof_ && pos_ < size_)) {
        const char* stop = newline != nullptr ? newline : buffer_.data() + size_;
        line = std::string_view(start, static_cast<std::size_t>(stop - start));
        if (!line.empty() && line.back() == '\r') {
          line.remove_suffix(1);
        }
        pos_ = static_cast<std::size_t>(stop - buffer_.data()) + (newline != nullptr ? 1 : 0);
        ++line_;
        return true;
      }
      if (eof_) {
        return false;
      }
      refill();
    }
  }

  /// 1-based number of the line last returned.
  std::int64_t line() const { return line_; }

 private:
  static constexpr std::size_t kBlock = std::size_t{8} << 20;
  static constexpr std::size_t kMaxLine = std::size_t{64} << 20;

  void refill() {
    const std::size_t rest = size_ - pos_;
    if (rest == buffer_.size()) {
      // One line fills the buffer: room for a longer one, up to a bound that only a file without line ends reaches.
      if (buffer_.size() >= kMaxLine) {
        throw DataError(source_, line_ + 1, "", fmt::format("a line longer than {} MB: not a CSV file", kMaxLine >> 20));
      }
      buffer_.resize(buffer_.size() * 2);
    }
    std::memmove(buffer_.data(), buffer_.data() + pos_, rest);
    pos_ = 0;
    size_ = rest;
    in_.read(buffer_.data() + size_, static_cast<std::streamsize>(buffer_.size() - size_));
    const auto got = static_cast<std::size_t>(in_.gcount());
    size_ += got;
    if (in_.bad()) {
      throw IoError(source_, "read error");
    }
    if (in_.eof() || got == 0) {
      eof_ = true;
    }
  }

  std::ifstream in_;
  std::string source_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0;
  std::size_t size_ = 0;
  bool eof_ = false;
  std::int64_t line_ = 0;
};

}  // namespace finfuse::data::internal
