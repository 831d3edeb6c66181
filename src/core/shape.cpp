#include "finfuse/core/shape.h"

#include <fmt/format.h>

namespace finfuse {

std::string shape_string(c10::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

}  // namespace finfuse
