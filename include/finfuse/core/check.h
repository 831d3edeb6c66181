// FINFUSE_CHECK: validate a condition and throw a finfuse error with a readable message, in the style of
// TORCH_CHECK. Use it for preconditions that callers can violate; it never aborts the process.
#pragma once

#include "finfuse/core/error.h"

#include <sstream>
#include <string>
#include <utility>

namespace finfuse::detail {

template <typename... Args>
std::string concat_message(Args&&... args) {
  if constexpr (sizeof...(Args) == 0) {
    return {};
  } else {
    std::ostringstream out;
    (out << ... << std::forward<Args>(args));
    return out.str();
  }
}

/// Builds "message (check `cond` failed at file:line)" for the check macros.
std::string check_message(const char* condition, const char* file, int line, const std::string& message);

}  // namespace finfuse::detail

#if defined(__GNUC__) || defined(__clang__)
#define FINFUSE_UNLIKELY(x) __builtin_expect(static_cast<bool>(x), 0)
#else
#define FINFUSE_UNLIKELY(x) (x)
#endif

/// Throws ErrorType (a class derived from finfuse::Error and constructible from a string) when `cond` is
/// false. The remaining arguments are streamed into the message: FINFUSE_CHECK_AS(ShapeError, a == b, "got ", a).
#define FINFUSE_CHECK_AS(ErrorType, cond, ...)                                                          \
  do {                                                                                                 \
    if (FINFUSE_UNLIKELY(!(cond))) {                                                                   \
      throw ErrorType(::finfuse::detail::check_message(#cond, __FILE__, __LINE__,                      \
                                                       ::finfuse::detail::concat_message(__VA_ARGS__))); \
    }                                                                                                  \
  } while (false)

/// Throws finfuse::Error when `cond` is false: FINFUSE_CHECK(n > 0, "n must be positive, got ", n).
#define FINFUSE_CHECK(cond, ...) FINFUSE_CHECK_AS(::finfuse::Error, cond, __VA_ARGS__)

/// Throws finfuse::ShapeError when `cond` is false.
#define FINFUSE_CHECK_SHAPE(cond, ...) FINFUSE_CHECK_AS(::finfuse::ShapeError, cond, __VA_ARGS__)
