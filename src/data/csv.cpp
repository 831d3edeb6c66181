#include "finfuse/data/csv.h"

#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/suggest.h"

#include <fmt/format.h>

#include <charconv>
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

CsvReader CsvReader::open(const std::filesystem::path& path, const CsvOptions& options) {
  return CsvReader(read_file(path, "a CSV file", options.max_file_bytes, "max_file_bytes"), path.string(), options);
}

CsvReader CsvReader::from_string(std::string text, std::string source, const CsvOptions& options) {
  return CsvReader(std::move(text), std::move(source), options);
}

CsvReader::CsvReader(std::string text, std::string source, const CsvOptions& options)
    : source_(std::move(source)), options_(options) {
  text_ = decode_text(std::move(text), options_.encoding, source_, &converted_);
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

void CsvReader::fail_and_skip_line(std::int64_t line, const std::string& reason) {
  while (pos_ < text_.size() && text_[pos_] != '\n') {
    ++pos_;
  }
  if (pos_ < text_.size()) {
    ++pos_;
    ++line_;
  }
  throw DataError(source_, line, "", reason);
}

bool CsvReader::next(CsvRecord& record) {
  record.fields.clear();
  record.unescaped_.clear();
  const std::size_t n = text_.size();
  const char delimiter = options_.delimiter;
  const char quote = options_.quote;

  // Skip blank lines.
  while (pos_ < n && (text_[pos_] == '\n' || (text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n'))) {
    pos_ += text_[pos_] == '\r' ? 2 : 1;
    ++line_;
  }
  if (pos_ >= n) {
    return false;
  }
  record.line = line_;
  const auto limit = static_cast<std::size_t>(options_.max_field_bytes);

  while (true) {
    if (quote != '\0' && pos_ < n && text_[pos_] == quote) {
      // Quoted field: runs to the matching quote; doubled quotes stand for one.
      const std::int64_t start_line = line_;
      ++pos_;
      const std::size_t start = pos_;
      bool escaped = false;
      std::size_t end = std::string::npos;
      while (pos_ < n) {
        const char c = text_[pos_];
        if (c == quote) {
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
      if (pos_ < n && text_[pos_] != delimiter && text_[pos_] != '\n' &&
          !(text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') && !(text_[pos_] == '\r' && pos_ + 1 == n)) {
        fail_and_skip_line(line_, fmt::format("unexpected character '{}' after a closing quote in field {}",
                                              text_[pos_], record.fields.size()));
      }
    } else {
      const std::size_t start = pos_;
      while (pos_ < n && text_[pos_] != delimiter && text_[pos_] != '\n') {
        ++pos_;
      }
      std::size_t end = pos_;
      if (end > start && text_[end - 1] == '\r' && (pos_ == n || text_[pos_] == '\n')) {
        --end;
      }
      if (end - start > limit) {
        fail_and_skip_line(line_, fmt::format("field {} is longer than {} bytes (max_field_bytes)",
                                              record.fields.size() + 1, limit));
      }
      record.fields.emplace_back(text_.data() + start, end - start);
    }
    // After a field: a delimiter continues the record, a line end or the end of input finishes it.
    if (pos_ >= n) {
      return true;
    }
    if (text_[pos_] == delimiter) {
      ++pos_;
      if (pos_ >= n) {
        record.fields.emplace_back();
        return true;
      }
      continue;
    }
    if (text_[pos_] == '\r') {
      ++pos_;
    }
    if (pos_ < n && text_[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
    return true;
  }
}

bool CsvReader::next(CsvRecord& record, BadRecordLog& bad) {
  while (true) {
    try {
      return next(record);
    } catch (const DataError& e) {
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
