// A read-only array that is either its own (moved in from a vector) or a view of memory something else keeps alive,
// such as a mapped file: a reopened dataset reads its arrays in place, and every copy of the array shares the values.
#pragma once

#include <c10/util/ArrayRef.h>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace finfuse {

/// Immutable and cheap to copy (copies share the values and whatever keeps them alive). Converts to c10::ArrayRef,
/// so functions that read an array take either a SharedArray or a std::vector.
template <typename T>
class SharedArray {
  static_assert(std::is_trivially_copyable_v<T>, "SharedArray holds plain values");

 public:
  using value_type = T;
  using const_iterator = const T*;

  SharedArray() = default;
  /// Takes the vector's values (no copy).
  template <typename Allocator>
  SharedArray(std::vector<T, Allocator>&& values)  // NOLINT(google-explicit-constructor): a vector is an array
  {
    auto owned = std::make_shared<std::vector<T, Allocator>>(std::move(values));
    data_ = owned->data();
    size_ = owned->size();
    owner_ = std::move(owned);
    owns_vector_ = true;
  }
  /// `size` values at `data`, which `owner` keeps alive and unchanged for as long as any copy of the array exists.
  static SharedArray view(const T* data, std::size_t size, std::shared_ptr<const void> owner) {
    SharedArray array;
    array.data_ = size == 0 ? nullptr : data;
    array.size_ = size;
    array.owner_ = std::move(owner);
    return array;
  }

  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  const T& front() const { return data_[0]; }
  const T& back() const { return data_[size_ - 1]; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  /// Whether the values are memory the array does not own (a mapped file, a buffer its owner fills in).
  bool is_view() const { return owner_ != nullptr && !owns_vector_; }

  operator c10::ArrayRef<T>() const { return c10::ArrayRef<T>(data_, size_); }  // NOLINT(google-explicit-constructor)
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }

 private:
  const T* data_ = nullptr;
  std::size_t size_ = 0;
  std::shared_ptr<const void> owner_;
  bool owns_vector_ = false;
};

}  // namespace finfuse
