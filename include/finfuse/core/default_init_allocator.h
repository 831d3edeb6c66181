// An allocator whose vectors leave new numbers unwritten: resize() default-initialises instead of value-initialising.
// For large buffers that are filled right after on every thread: std::vector would first zero them on one thread,
// touching (and page-faulting) every page twice, the first time serially. The dataset's token ids are 40-odd MB.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace finfuse {

template <typename T>
class DefaultInitAllocator : public std::allocator<T> {
 public:
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };

  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>& other) noexcept : std::allocator<T>(other) {}  // NOLINT

  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;  // default-initialisation: numbers keep whatever the memory held
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

/// A vector whose resize() leaves new elements of trivial types unwritten.
template <typename T>
using UninitializedVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace finfuse
