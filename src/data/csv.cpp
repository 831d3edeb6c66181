#include "finfuse/data/csv.h"

#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/encoding.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <cmath>
#include <limits>

namespace finfuse::data {
namespace {

std::string describe_char(char c) {
  if (c == '\t') {
    return "tab";
  }
  return fmt::format("'{}'", c);
}

}  // namespace

CsvReader CsvReader::open(const std::filesystem::path& path, const CsvOptions& options, std::size_t block_bytes) {
  const auto size = checked_file_size(path, "a CSV file", options.max_file_bytes, "max_file_bytes");
  CsvReader reader(path.string(), options);
  reader.in_.open(path, std::ios::binary);
  if (!reader.in_) {
    throw IoError(reader.source_, "cannot open for reading");
  }
  // The byte order mark, if any: UTF-16 and UTF-32 are refused, UTF-8's is skipped.
  std::array<char, 4> head{};
  reader.in_.read(head.data(), head.size());
  const std::size_t skip = byte_order_mark_length(
      std::string_view(head.data(), static_cast<std::size_t>(reader.in_.gcount())), reader.source_);
  reader.in_.clear();
  reader.in_.seekg(static_cast<std::streamoff>(skip));
  // A block at a time, or the whole of a smaller file.
  reader.block_ = std::clamp<std::size_t>(block_bytes, 1, static_cast<std::size_t>(size) + 1);
  reader.eof_ = false;
  if (options.encoding == EncodingPolicy::latin1_fallback) {
    // Either all of the file is UTF-8 or all of it is read as Latin-1: one pass decides.
    std::ifstream scan(path, std::ios::binary);
    scan.seekg(static_cast<std::streamoff>(skip));
    std::string block;
    std::string carry;
    while (scan) {
      block.assign(carry);
      block.resize(carry.size() + reader.block_);
      scan.read(block.data() + carry.size(), static_cast<std::streamsize>(reader.block_));
      block.resize(carry.size() + static_cast<std::size_t>(scan.gcount()));
      const std::size_t complete = !scan ? block.size() : utf8_complete_prefix(block);
      if (find_invalid_utf8(std::string_view(block).substr(0, complete))) {
        reader.latin1_ = true;
        reader.converted_ = true;
        break;
      }
      carry.assign(block, complete, std::string::npos);
    }
    if (scan.bad()) {
      throw IoError(reader.source_, "read error");
    }
  }
  reader.read_header();
  return reader;
}

CsvReader CsvReader::from_string(std::string text, std::string source, const CsvOptions& options) {
  CsvReader reader(std::move(source), options);
  reader.text_ = decode_text(std::move(text), options.encoding, reader.source_, &reader.converted_);
  reader.read_header();
  return reader;
}

CsvReader::CsvReader(std::string source, const CsvOptions& options) : source_(std::move(source)), options_(options) {}

void CsvReader::read_header() {
  if (options_.header) {
    CsvRecord record;
    if (!next(record)) {
      throw DataError(source_, 0, "", "the file is empty; expected a header line");
    }
    header_.assign(record.fields.begin(), record.fields.end());
    for (auto& name : header_) {
      name = std::string(trim(name));
    }
    for (std::size_t i = 0; i < header_.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (header_[i] == header_[j] && !header_[i].empty()) {
          throw DataError(source_, record.line, header_[i],
                          fmt::format("duplicate column name (columns {} and {})", j + 1, i + 1));
        }
      }
    }
  } else {
    header_ = options_.column_names;
  }
}

std::optional<std::size_t> CsvReader::find_column(std::string_view name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) {
      return i;
    }
  }
  return std::nullopt;
}

std::size_t CsvReader::require_column(std::string_view name) const {
  if (auto index = find_column(name)) {
    return *index;
  }
  throw DataError(source_, 1, std::string(name),
                  fmt::format("missing column{}; the header has {}", did_you_mean(name, header_),
                              quoted_list(header_)));
}

void CsvReader::expect_width(const CsvRecord& record) const {
  if (record.size() != header_.size()) {
    throw DataError(source_, record.line, "",
                    fmt::format("expected {} fields (one per header column, delimiter {}), got {}", header_.size(),
                                describe_char(options_.delimiter), record.size()));
  }
}

bool CsvReader::read_block() {
  if (eof_) {
    return false;
  }
  // What was read goes; the line it ends in is remembered for the columns of later errors.
  const std::string_view done(text_.data(), pos_);
  const std::size_t newline = done.rfind('\n');
  line_offset_ = newline == std::string_view::npos ? line_offset_ + pos_ : pos_ - newline - 1;
  text_.erase(0, pos_);
  pos_ = 0;

  const std::size_t kept = text_.size();
  std::string latin1;
  std::string& target = latin1_ ? latin1 : text_;
  const std::size_t start = latin1_ ? 0 : kept;
  target.resize(start + pending_.size() + block_);
  std::copy(pending_.begin(), pending_.end(), target.begin() + static_cast<std::ptrdiff_t>(start));
  in_.read(target.data() + start + pending_.size(), static_cast<std::streamsize>(block_));
  const auto got = static_cast<std::size_t>(in_.gcount());
  if (in_.bad()) {
    failed_ = std::make_exception_ptr(IoError(source_, "read error"));
    std::rethrow_exception(failed_);
  }
  eof_ = got < block_;
  target.resize(start + pending_.size() + got);
  pending_.clear();
  if (latin1_) {
    text_ += latin1_to_utf8(latin1);
    return true;
  }
  // Checked as it arrives, up to a character cut off at the block's end (checked with the next block).
  const std::size_t complete = eof_ ? text_.size() : kept + utf8_complete_prefix(std::string_view(text_).substr(kept));
  if (const auto invalid = find_invalid_utf8(std::string_view(text_).substr(kept, complete - kept))) {
    fail_encoding(kept + *invalid);
  }
  pending_.assign(text_, complete, std::string::npos);
  text_.resize(complete);
  return true;
}

void CsvReader::fail_encoding(std::size_t offset) {
  const std::string_view before(text_.data(), offset);
  const auto line = line_ + static_cast<std::int64_t>(std::count(before.begin() + static_cast<std::ptrdiff_t>(pos_),
                                                                 before.end(), '\n'));
  const std::size_t newline = before.rfind('\n');
  const std::size_t column = newline == std::string_view::npos ? line_offset_ + offset + 1 : offset - newline;
  failed_ = std::make_exception_ptr(
      DataError(source_, line, "", invalid_utf8_message(static_cast<unsigned char>(text_[offset]), column)));
  std::rethrow_exception(failed_);
}

void CsvReader::fail_and_skip_line(std::int64_t line, const std::string& reason) {
  // The record is given up: the rest of its line goes, read on as far as it runs.
  for (;;) {
    const auto* newline = static_cast<const char*>(std::memchr(text_.data() + pos_, '\n', text_.size() - pos_));
    if (newline != nullptr) {
      pos_ = static_cast<std::size_t>(newline - text_.data()) + 1;
      ++line_;
      break;
    }
    pos_ = text_.size();
    if (!read_block()) {
      break;
    }
  }
  throw DataError(source_, line, "", reason);
}

bool CsvReader::next(CsvRecord& record) {
  if (failed_) {
    std::rethrow_exception(failed_);
  }
  for (;;) {
    record.fields.clear();
    record.unescaped_.clear();
    const std::size_t start = pos_;
    const std::int64_t start_line = line_;
    switch (parse(record)) {
      case Step::record:
        return true;
      case Step::end:
        return false;
      case Step::more:
        // The record runs past the buffer: read it again with the next block.
        pos_ = start;
        line_ = start_line;
        read_block();
        break;
    }
  }
}

CsvReader::Step CsvReader::parse(CsvRecord& record) {
  const std::size_t n = text_.size();
  const char delimiter = options_.delimiter;
  const char quote = options_.quote;
  // Whether the buffer ends where the input does; otherwise a decision that needs the byte after the buffer's last
  // one waits for the next block.
  const bool last = eof_;

  // Skip blank lines.
  while (pos_ < n) {
    if (text_[pos_] == '\n') {
      ++pos_;
      ++line_;
      continue;
    }
    if (text_[pos_] == '\r') {
      if (pos_ + 1 == n && !last) {
        return Step::more;
      }
      if (pos_ + 1 < n && text_[pos_ + 1] == '\n') {
        pos_ += 2;
        ++line_;
        continue;
      }
    }
    break;
  }
  if (pos_ >= n) {
    return last ? Step::end : Step::more;
  }
  record.line = line_;
  const auto limit = static_cast<std::size_t>(options_.max_field_bytes);

  while (true) {
    if (quote != '\0' && text_[pos_] == quote) {
      // Quoted field: runs to the matching quote; doubled quotes stand for one.
      const std::int64_t start_line = line_;
      ++pos_;
      const std::size_t start = pos_;
      bool escaped = false;
      std::size_t end = std::string::npos;
      while (pos_ < n) {
        const char c = text_[pos_];
        if (c == quote) {
          if (pos_ + 1 == n && !last) {
            return Step::more;
          }
          if (pos_ + 1 < n && text_[pos_ + 1] == quote) {
            escaped = true;
            pos_ += 2;
            continue;
          }
          end = pos_;
          ++pos_;
          break;
        }
        if (c == '\n') {
          ++line_;
        }
        ++pos_;
        if (pos_ - start > limit) {
          fail_and_skip_line(start_line, fmt::format("a quoted field is longer than {} bytes (max_field_bytes); "
                                                     "is a closing quote missing?",
                                                     limit));
        }
      }
      if (end == std::string::npos) {
        if (!last) {
          return Step::more;
        }
        throw DataError(source_, start_line, "", "a quoted field is not closed before the end of the file");
      }
      std::string_view content(text_.data() + start, end - start);
      if (escaped) {
        std::string unescaped;
        unescaped.reserve(content.size());
        for (std::size_t i = 0; i < content.size(); ++i) {
          unescaped += content[i];
          if (content[i] == quote) {
            ++i;  // skip the second of the pair
          }
        }
        record.unescaped_.push_back(std::move(unescaped));
        content = record.unescaped_.back();
      }
      record.fields.push_back(content);
      // After the closing quote: a delimiter, a line end or the end of the input.
      if (pos_ < n) {
        const char c = text_[pos_];
        if (c == '\r' && pos_ + 1 == n && !last) {
          return Step::more;
        }
        const bool line_end = c == '\n' || (c == '\r' && (pos_ + 1 == n || text_[pos_ + 1] == '\n'));
        if (c != delimiter && !line_end) {
          fail_and_skip_line(line_, fmt::format("unexpected character '{}' after a closing quote in field {}", c,
                                                record.fields.size()));
        }
      }
    } else {
      const std::size_t start = pos_;
      while (pos_ < n && text_[pos_] != delimiter && text_[pos_] != '\n') {
        ++pos_;
      }
      std::size_t end = pos_;
      if (end > start && text_[end - 1] == '\r' && (pos_ == n || text_[pos_] == '\n')) {
        --end;  // (at the buffer's end, a '\r' that a '\n' may follow: the field is at least this long)
      }
      if (pos_ == n && !last && end - start <= limit) {
        return Step::more;  // (a field already over the limit is an error whatever follows)
      }
      if (end - start > limit) {
        fail_and_skip_line(line_, fmt::format("field {} is longer than {} bytes (max_field_bytes)",
                                              record.fields.size() + 1, limit));
      }
      record.fields.emplace_back(text_.data() + start, end - start);
    }
    // After a field: a delimiter continues the record, a line end or the end of input finishes it.
    if (pos_ >= n) {
      return last ? Step::record : Step::more;
    }
    if (text_[pos_] == delimiter) {
      ++pos_;
      if (pos_ >= n) {
        if (!last) {
          return Step::more;
        }
        record.fields.emplace_back();
        return Step::record;
      }
      continue;
    }
    if (text_[pos_] == '\r') {
      ++pos_;
    }
    if (pos_ < n && text_[pos_] == '\n') {
      ++pos_;
      ++line_;
    } else if (pos_ >= n && !last) {
      return Step::more;
    }
    return Step::record;
  }
}

bool CsvReader::next(CsvRecord& record, BadRecordLog& bad) {
  while (true) {
    try {
      return next(record);
    } catch (const DataError& e) {
      if (failed_) {
        throw;  // the reading cannot go on
      }
      bad.add(e);
    }
  }
}

std::string quoted_value(std::string_view value) {
  return value.size() > 40 ? fmt::format("'{}...'", value.substr(0, 37)) : fmt::format("'{}'", value);
}

std::string_view trim(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) {
    ++begin;
  }
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) {
    --end;
  }
  return text.substr(begin, end - begin);
}

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  if (text.empty()) {
    return std::nullopt;
  }
  if (text.front() == '+') {
    text.remove_prefix(1);
  }
  double value = 0.0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (result.ec == std::errc::result_out_of_range) {
    // from_chars reports overflow and underflow alike: tell them apart by the exponent's sign.
    const bool underflow = text.find("e-") != std::string_view::npos || text.find("E-") != std::string_view::npos;
    return underflow ? 0.0 : (text.front() == '-' ? -HUGE_VAL : HUGE_VAL);
  }
  if (result.ec != std::errc() || result.ptr != end) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end) {
    return std::nullopt;
  }
  return value;
}

void CsvOptions::validate(const Config& config) const {
  if (delimiter == '\0') {
    config.fail_at("delimiter", "expected a single character, got \"\"");
  }
  if (delimiter == quote) {
    config.fail_at("quote", "must differ from the delimiter");
  }
  if (header && !column_names.empty()) {
    config.fail_at("column_names", "names the columns of a file without a header line; set \"header\": false");
  }
  for (std::size_t i = 0; i < column_names.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (column_names[i] == column_names[j]) {
        config.fail_at("column_names", fmt::format("duplicate column name \"{}\"", column_names[i]));
      }
    }
  }
}

}  // namespace finfuse::data

namespace finfuse {

char FieldCodec<char>::read(const Config& parent, const std::string& key) {
  const auto value = parent.get<std::string>(key);
  if (value.empty()) {
    return '\0';
  }
  if (value == "\\t" || value == "tab") {
    return '\t';
  }
  if (value.size() != 1 || value[0] == '\n' || value[0] == '\r') {
    parent.fail_at(key, fmt::format("expected a single character, got \"{}\"", value));
  }
  return value[0];
}

}  // namespace finfuse
