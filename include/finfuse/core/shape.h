// Readable tensor shapes for error messages: "[32, 20, 5]".
#pragma once

#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <string>

namespace finfuse {

/// "[32, 20, 5]"; "[]" for a scalar.
std::string shape_string(c10::IntArrayRef sizes);

}  // namespace finfuse
