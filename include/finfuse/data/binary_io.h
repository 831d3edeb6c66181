// Length-prefixed binary encoding of plain values, vectors and strings: the dataset cache, in which every modality
// stores its built inputs (Modality::save / load). Arrays start on an 8-byte boundary of the stream (a count, the
// number of padding bytes, the padding, the values), so that a reader over a mapped file can hand them out in place.
#pragma once

#include "finfuse/core/error.h"
#include "finfuse/core/shared_array.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace finfuse::data {

/// Collects the bytes in a string (take()), or, given a sink, hands them on in pieces of about `chunk` bytes as they
/// are written (a large array goes to the sink directly), so that writing a large dataset to a file never holds it
/// whole in memory; flush() hands on the rest.
class BinaryWriter {
 public:
  using Sink = std::function<void(std::string_view)>;

  BinaryWriter() = default;
  explicit BinaryWriter(Sink sink, std::size_t chunk = std::size_t{1} << 20) : sink_(std::move(sink)), chunk_(chunk) {}

  template <typename T>
  void pod(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  template <typename T, typename Allocator>
  void vec(const std::vector<T, Allocator>& values) {
    array(values.data(), values.size());
  }
  template <typename T>
  void vec(const SharedArray<T>& values) {
    array(values.data(), values.size());
  }
  /// `count` values at `values`, aligned like vec().
  template <typename T>
  void array(const T* values, std::size_t count) {
    static_assert(std::is_trivially_copyable_v<T>);
    static_assert(alignof(T) <= kAlignment);
    pod<std::uint64_t>(count);
    const auto padding = static_cast<std::uint8_t>((kAlignment - (written_ + 1) % kAlignment) % kAlignment);
    pod(padding);
    constexpr char kZeros[kAlignment] = {};
    append(kZeros, padding);
    append(reinterpret_cast<const char*>(values), count * sizeof(T));
  }
  void str(std::string_view text) {
    pod<std::uint64_t>(text.size());
    append(text.data(), text.size());
  }
  void strings(const std::vector<std::string>& values) {
    pod<std::uint64_t>(values.size());
    for (const auto& v : values) {
      str(v);
    }
  }
  /// The bytes written (without a sink).
  std::string take() { return std::move(bytes_); }
  /// Hands what is buffered to the sink.
  void flush() {
    if (sink_ && !bytes_.empty()) {
      sink_(bytes_);
      bytes_.clear();
    }
  }
  /// Every byte written so far, handed on or not.
  std::uint64_t written() const { return written_; }

  /// Arrays start at a multiple of this many bytes from the start of the stream.
  static constexpr std::size_t kAlignment = 8;

 private:
  void append(const char* data, std::size_t size) {
    written_ += size;
    if (sink_ && size >= chunk_) {
      flush();
      sink_(std::string_view(data, size));
      return;
    }
    bytes_.append(data, size);
    if (sink_ && bytes_.size() >= chunk_) {
      flush();
    }
  }

  std::string bytes_;
  Sink sink_;
  std::size_t chunk_ = 0;
  std::uint64_t written_ = 0;
};

/// Reads what BinaryWriter wrote; every length is checked against the bytes left, so a truncated or corrupted
/// input is a DataError, never an overrun or a huge allocation. Given an `owner` that keeps the bytes alive and
/// unchanged (a mapped file), array() returns views of them instead of copies.
class BinaryReader {
 public:
  BinaryReader(std::string_view bytes, std::string source, std::shared_ptr<const void> owner = nullptr)
      : bytes_(bytes), source_(std::move(source)), owner_(std::move(owner)) {}

  template <typename T>
  T pod() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }
  /// A vector of T; with finfuse::DefaultInitAllocator the elements are written once, by the copy.
  template <typename T, typename Allocator = std::allocator<T>>
  std::vector<T, Allocator> vec() {
    return copy_values<T, Allocator>(array_start<T>());
  }
  /// What vec() reads, in place when the reader has an owner and the values lie aligned; a copy otherwise.
  template <typename T>
  SharedArray<T> array() {
    const auto count = array_start<T>();
    const char* start = bytes_.data() + position_;
    if (owner_ == nullptr || reinterpret_cast<std::uintptr_t>(start) % alignof(T) != 0) {
      return SharedArray<T>(copy_values<T, std::allocator<T>>(count));
    }
    position_ += count * sizeof(T);
    return SharedArray<T>::view(reinterpret_cast<const T*>(start), count, owner_);
  }
  std::string str() {
    const auto size = pod<std::uint64_t>();
    need(size);
    std::string text(bytes_.substr(position_, static_cast<std::size_t>(size)));
    position_ += static_cast<std::size_t>(size);
    return text;
  }
  std::vector<std::string> strings() {
    const auto count = pod<std::uint64_t>();
    if (count > bytes_.size() - position_) {
      fail(fmt::format("a list of {} strings does not fit in the {} bytes left", count, bytes_.size() - position_));
    }
    std::vector<std::string> values;
    values.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
      values.push_back(str());
    }
    return values;
  }
  bool done() const { return position_ == bytes_.size(); }
  std::size_t position() const { return position_; }
  /// The file the bytes came from, for error messages.
  const std::string& source() const { return source_; }
  /// Throws a DataError naming the source: values that were read whole but do not agree with each other.
  [[noreturn]] void inconsistent(const std::string& what) const {
    throw DataError(source_, 0, "", fmt::format("inconsistent dataset: {}", what));
  }

 private:
  void need(std::uint64_t size) {
    if (size > bytes_.size() - position_) {
      fail(fmt::format("needs {} more bytes at offset {}, {} left", size, position_, bytes_.size() - position_));
    }
  }
  // Reads an array's count and padding; returns the count once its values are known to fit.
  template <typename T>
  std::size_t array_start() {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto count = pod<std::uint64_t>();
    const auto padding = pod<std::uint8_t>();
    if (padding >= BinaryWriter::kAlignment) {
      fail(fmt::format("an array's padding of {} bytes at offset {}", padding, position_ - 1));
    }
    need(padding);
    position_ += padding;
    if (count > (bytes_.size() - position_) / sizeof(T)) {
      fail(fmt::format("a list of {} values does not fit in the {} bytes left", count, bytes_.size() - position_));
    }
    return static_cast<std::size_t>(count);
  }
  // The `count` values at the current position, copied, and the position moved past them.
  template <typename T, typename Allocator>
  std::vector<T, Allocator> copy_values(std::size_t count) {
    std::vector<T, Allocator> values(count);
    if (!values.empty()) {  // an empty vector's data() may be null, which memcpy must not get
      std::memcpy(values.data(), bytes_.data() + position_, values.size() * sizeof(T));
    }
    position_ += values.size() * sizeof(T);
    return values;
  }
  [[noreturn]] void fail(const std::string& reason) {
    throw DataError(source_, 0, "", "truncated or corrupted data: " + reason);
  }

  std::string_view bytes_;
  std::string source_;
  std::shared_ptr<const void> owner_;
  std::size_t position_ = 0;
};

}  // namespace finfuse::data
