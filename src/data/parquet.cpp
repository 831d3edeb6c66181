#include "finfuse/data/parquet.h"

#include "finfuse/core/error.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/time.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <utility>

#if FINFUSE_WITH_PARQUET
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>
#endif

namespace finfuse::data {

bool is_parquet_path(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".parquet" || extension == ".pq";
}

#if FINFUSE_WITH_PARQUET

bool parquet_supported() { return true; }

namespace {

/// One column of the current batch and the text of its current row.
struct Column {
  std::shared_ptr<arrow::Array> array;   // the batch's column (a dictionary column: its indices)
  std::shared_ptr<arrow::Array> values;  // a dictionary column's dictionary
  std::string text;                      // the row's text when it is not a view into the batch
};

bool supported(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::NA:
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
    case arrow::Type::UINT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::STRING_VIEW:
    case arrow::Type::DATE32:
    case arrow::Type::DATE64:
    case arrow::Type::TIMESTAMP:
      return true;
    case arrow::Type::DICTIONARY:
      return supported(*static_cast<const arrow::DictionaryType&>(type).value_type());
    default:
      return false;
  }
}

/// `value` in its shortest exact decimal form, written into `buffer` (reused from row to row: no allocation).
template <class T>
std::string_view number_text(T value, std::string& buffer) {
  fmt::format_to(std::back_inserter(buffer), "{}", value);
  return buffer;
}

/// The day `days` after 1970-01-01 as YYYY-MM-DD, into `buffer` (Howard Hinnant's civil_from_days).
std::string_view date_text(std::int64_t days, std::string& buffer) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {
    fmt::format_to(std::back_inserter(buffer), "{}", Date(static_cast<std::int32_t>(days)).to_string());
    return buffer;
  }
  char text[10] = {static_cast<char>('0' + year / 1000), static_cast<char>('0' + year / 100 % 10),
                   static_cast<char>('0' + year / 10 % 10), static_cast<char>('0' + year % 10), '-',
                   static_cast<char>('0' + month / 10), static_cast<char>('0' + month % 10), '-',
                   static_cast<char>('0' + day / 10), static_cast<char>('0' + day % 10)};
  buffer.append(text, sizeof(text));
  return buffer;
}

/// The instant `value` in `unit`s since the epoch, as ISO 8601 in UTC (a date alone for a midnight without time
/// zone), into `buffer`.
std::string_view timestamp_text(std::int64_t value, arrow::TimeUnit::type unit, bool zoned, std::string& buffer) {
  std::int64_t per_second = 1;
  switch (unit) {
    case arrow::TimeUnit::SECOND: per_second = 1; break;
    case arrow::TimeUnit::MILLI: per_second = 1000; break;
    case arrow::TimeUnit::MICRO: per_second = 1000000; break;
    case arrow::TimeUnit::NANO: per_second = 1000000000; break;
  }
  std::int64_t seconds = value / per_second;
  std::int64_t fraction = value % per_second;
  if (fraction < 0) {
    fraction += per_second;
    --seconds;
  }
  std::int64_t days = seconds / 86400;
  std::int64_t of_day = seconds % 86400;
  if (of_day < 0) {
    of_day += 86400;
    --days;
  }
  date_text(days, buffer);
  if (!zoned && of_day == 0 && fraction == 0) {
    return buffer;
  }
  fmt::format_to(std::back_inserter(buffer), "T{:02}:{:02}:{:02}", of_day / 3600, of_day / 60 % 60, of_day % 60);
  if (fraction != 0) {
    const int digits = unit == arrow::TimeUnit::MILLI ? 3 : unit == arrow::TimeUnit::MICRO ? 6 : 9;
    fmt::format_to(std::back_inserter(buffer), ".{:0{}}", fraction, digits);
  }
  buffer += 'Z';
  return buffer;
}

/// The text of row `row` of `array` (not null), in `buffer` unless it is a view into the array.
std::string_view cell_text(const arrow::Array& array, std::int64_t row, std::string& buffer) {
  buffer.clear();
  switch (array.type_id()) {
    case arrow::Type::BOOL:
      return static_cast<const arrow::BooleanArray&>(array).Value(row) ? "true" : "false";
    case arrow::Type::INT8:
      return number_text(static_cast<const arrow::Int8Array&>(array).Value(row), buffer);
    case arrow::Type::INT16:
      return number_text(static_cast<const arrow::Int16Array&>(array).Value(row), buffer);
    case arrow::Type::INT32:
      return number_text(static_cast<const arrow::Int32Array&>(array).Value(row), buffer);
    case arrow::Type::INT64:
      return number_text(static_cast<const arrow::Int64Array&>(array).Value(row), buffer);
    case arrow::Type::UINT8:
      return number_text(static_cast<const arrow::UInt8Array&>(array).Value(row), buffer);
    case arrow::Type::UINT16:
      return number_text(static_cast<const arrow::UInt16Array&>(array).Value(row), buffer);
    case arrow::Type::UINT32:
      return number_text(static_cast<const arrow::UInt32Array&>(array).Value(row), buffer);
    case arrow::Type::UINT64:
      return number_text(static_cast<const arrow::UInt64Array&>(array).Value(row), buffer);
    case arrow::Type::FLOAT:
      return number_text(static_cast<const arrow::FloatArray&>(array).Value(row), buffer);
    case arrow::Type::DOUBLE:
      return number_text(static_cast<const arrow::DoubleArray&>(array).Value(row), buffer);
    case arrow::Type::STRING:
      return static_cast<const arrow::StringArray&>(array).GetView(row);
    case arrow::Type::LARGE_STRING:
      return static_cast<const arrow::LargeStringArray&>(array).GetView(row);
    case arrow::Type::STRING_VIEW:
      return static_cast<const arrow::StringViewArray&>(array).GetView(row);
    case arrow::Type::DATE32:
      return date_text(static_cast<const arrow::Date32Array&>(array).Value(row), buffer);
    case arrow::Type::DATE64:
      return timestamp_text(static_cast<const arrow::Date64Array&>(array).Value(row), arrow::TimeUnit::MILLI, false,
                            buffer);
    case arrow::Type::TIMESTAMP: {
      const auto& type = static_cast<const arrow::TimestampType&>(*array.type());
      return timestamp_text(static_cast<const arrow::TimestampArray&>(array).Value(row), type.unit(),
                            !type.timezone().empty(), buffer);
    }
    default:
      return buffer;  // refused when the file was opened
  }
}

}  // namespace

struct ParquetReader::Impl {
  std::string source;
  std::vector<std::string> header;
  std::int64_t rows = 0;
  std::unique_ptr<parquet::arrow::FileReader> file;
  std::unique_ptr<arrow::RecordBatchReader> batches;
  std::shared_ptr<arrow::RecordBatch> batch;
  std::vector<Column> columns;
  std::int64_t row_in_batch = 0;
  std::int64_t row = 0;  // rows handed out so far
  bool done = false;

  [[noreturn]] void fail(const std::string& what, const std::string& detail) const {
    throw DataError(source, row, "", fmt::format("{}: {}", what, detail));
  }

  /// Moves to the next non-empty batch; false at the end.
  bool next_batch() {
    while (true) {
      std::shared_ptr<arrow::RecordBatch> next;
      arrow::Status status;
      try {
        status = batches->ReadNext(&next);
      } catch (const parquet::ParquetException& e) {
        done = true;
        fail("cannot decode the file (damaged or truncated)", e.what());
      }
      if (!status.ok()) {
        done = true;
        fail("cannot decode the file (damaged or truncated)", status.ToString());
      }
      if (next == nullptr) {
        done = true;
        return false;
      }
      if (next->num_rows() == 0) {
        continue;
      }
      batch = std::move(next);
      row_in_batch = 0;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        auto array = batch->column(static_cast<int>(i));
        if (array->type_id() == arrow::Type::DICTIONARY) {
          const auto& dictionary = static_cast<const arrow::DictionaryArray&>(*array);
          columns[i].values = dictionary.dictionary();
          columns[i].array = dictionary.indices();
        } else {
          columns[i].values = nullptr;
          columns[i].array = std::move(array);
        }
      }
      return true;
    }
  }
};

ParquetReader::ParquetReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ParquetReader ParquetReader::open(const std::filesystem::path& path) {
  auto impl = std::make_unique<Impl>();
  impl->source = path.string();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw IoError(impl->source, std::filesystem::exists(path, error) ? "not a regular file" : "no such file");
  }
  auto input = arrow::io::ReadableFile::Open(impl->source);
  if (!input.ok()) {
    throw IoError(impl->source, input.status().message());
  }
  try {
    auto reader = parquet::arrow::OpenFile(*input, arrow::default_memory_pool());
    if (!reader.ok()) {
      throw DataError(impl->source, 0, "", fmt::format("not a readable Parquet file: {}", reader.status().message()));
    }
    impl->file = std::move(*reader);
    std::shared_ptr<arrow::Schema> schema;
    const arrow::Status status = impl->file->GetSchema(&schema);
    if (!status.ok()) {
      throw DataError(impl->source, 0, "", fmt::format("unreadable Parquet schema: {}", status.message()));
    }
    for (const auto& field : schema->fields()) {
      if (!supported(*field->type())) {
        throw DataError(impl->source, 0, field->name(),
                        fmt::format("a column of type {}; expected strings, numbers, booleans, dates or timestamps",
                                    field->type()->ToString()));
      }
      impl->header.push_back(field->name());
    }
    impl->columns.resize(impl->header.size());
    impl->rows = impl->file->parquet_reader()->metadata()->num_rows();
    auto batches = impl->file->GetRecordBatchReader();
    if (!batches.ok()) {
      throw DataError(impl->source, 0, "", fmt::format("cannot read the row groups: {}", batches.status().message()));
    }
    impl->batches = std::move(*batches);
  } catch (const parquet::ParquetException& e) {
    throw DataError(impl->source, 0, "", fmt::format("not a readable Parquet file: {}", e.what()));
  }
  return ParquetReader(std::move(impl));
}

bool ParquetReader::next(CsvRecord& record) {
  Impl& s = *impl_;
  if (s.done) {
    return false;
  }
  if ((s.batch == nullptr || s.row_in_batch >= s.batch->num_rows()) && !s.next_batch()) {
    return false;
  }
  const std::int64_t row = s.row_in_batch++;
  ++s.row;
  record.line = s.row;
  record.fields.resize(s.columns.size());
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    Column& column = s.columns[i];
    if (column.array->IsNull(row)) {
      record.fields[i] = std::string_view();
      continue;
    }
    if (column.values == nullptr) {
      record.fields[i] = cell_text(*column.array, row, column.text);
      continue;
    }
    std::int64_t index = 0;
    switch (column.array->type_id()) {
      case arrow::Type::INT8: index = static_cast<const arrow::Int8Array&>(*column.array).Value(row); break;
      case arrow::Type::INT16: index = static_cast<const arrow::Int16Array&>(*column.array).Value(row); break;
      case arrow::Type::INT32: index = static_cast<const arrow::Int32Array&>(*column.array).Value(row); break;
      default: index = static_cast<const arrow::Int64Array&>(*column.array).Value(row); break;
    }
    if (index < 0 || index >= column.values->length()) {
      s.fail(fmt::format("column '{}'", s.header[i]), fmt::format("dictionary index {} out of range", index));
    }
    record.fields[i] = column.values->IsNull(index) ? std::string_view() : cell_text(*column.values, index, column.text);
  }
  return true;
}

#else  // no Arrow

bool parquet_supported() { return false; }

struct ParquetReader::Impl {
  std::string source;
  std::vector<std::string> header;
  std::int64_t rows = 0;
};

ParquetReader::ParquetReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ParquetReader ParquetReader::open(const std::filesystem::path& path) {
  throw Error(fmt::format("{}: this build of finfuse does not read Parquet (it was built without Apache Arrow C++; "
                          "scripts/install-arrow.sh installs it, then rebuild; docs/data.md)",
                          path.string()));
}

bool ParquetReader::next(CsvRecord& /*record*/) { return false; }

#endif

ParquetReader::ParquetReader(ParquetReader&&) noexcept = default;
ParquetReader& ParquetReader::operator=(ParquetReader&&) noexcept = default;
ParquetReader::~ParquetReader() = default;

const std::string& ParquetReader::source() const { return impl_->source; }
const std::vector<std::string>& ParquetReader::header() const { return impl_->header; }
std::int64_t ParquetReader::rows() const { return impl_->rows; }

std::optional<std::size_t> ParquetReader::find_column(std::string_view name) const {
  const auto& header = impl_->header;
  const auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? std::nullopt : std::optional<std::size_t>(it - header.begin());
}

std::size_t ParquetReader::require_column(std::string_view name) const {
  if (auto index = find_column(name)) {
    return *index;
  }
  throw DataError(impl_->source, 0, std::string(name),
                  fmt::format("missing column{}; the file has {}", did_you_mean(name, impl_->header),
                              quoted_list(impl_->header)));
}

bool ParquetReader::next(CsvRecord& record, BadRecordLog& bad) {
  // Damage that stops decoding ends the file in either mode: nothing after it can be read.
  (void)bad;
  return next(record);
}

}  // namespace finfuse::data
