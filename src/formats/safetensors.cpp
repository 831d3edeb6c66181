// The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
// byte range, then the raw data.
#include "finfuse/formats/safetensors.h"

#include "finfuse/core/config.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/shape.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <vector>

namespace finfuse::formats {
namespace {

std::vector<char> read_bytes(const std::filesystem::path& path) {
  const std::string text = read_file(path, "a weights file");
  return std::vector<char>(text.begin(), text.end());
}

c10::ScalarType safetensors_dtype(const std::string& name, const std::string& file, const std::string& tensor) {
  static const std::map<std::string, c10::ScalarType> types = {
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  const auto it = types.find(name);
  if (it == types.end()) {
    throw DataError(file, 0, tensor, fmt::format("unsupported safetensors dtype '{}'", name));
  }
  return it->second;
}

}  // namespace

TensorMap read_safetensors(const std::filesystem::path& path) {
  const std::vector<char> bytes = read_bytes(path);
  const std::string file = path.string();
  if (bytes.size() < 8) {
    throw DataError(file, 0, "", "too short for a safetensors file");
  }
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) {
    header_size = (header_size << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  }
  if (header_size > bytes.size() - 8) {
    throw DataError(file, 0, "", fmt::format("the header claims {} bytes but the file has {}", header_size, bytes.size()));
  }
  Json header;
  try {
    header = Json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_size));
  } catch (const Json::exception& e) {
    throw DataError(file, 0, "", fmt::format("the header is not valid JSON: {}", e.what()));
  }
  const std::size_t data_start = 8 + static_cast<std::size_t>(header_size);
  const std::size_t data_size = bytes.size() - data_start;
  TensorMap out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      continue;
    }
    try {
      const auto dtype = safetensors_dtype(entry.at("dtype").get<std::string>(), file, name);
      const auto shape = entry.at("shape").get<std::vector<std::int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      std::int64_t count = 1;
      for (const auto d : shape) {
        if (d < 0) {
          throw DataError(file, 0, name, "negative dimension");
        }
        count *= d;
      }
      const auto expected = static_cast<std::uint64_t>(count) * c10::elementSize(dtype);
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size || offsets[1] - offsets[0] != expected) {
        throw DataError(file, 0, name, fmt::format("data offsets do not match its shape {} and dtype", shape_string(shape)));
      }
      auto tensor = torch::empty(shape, torch::TensorOptions().dtype(dtype));
      std::memcpy(tensor.data_ptr(), bytes.data() + data_start + offsets[0], expected);
      out.emplace(name, tensor);
    } catch (const Json::exception& e) {
      throw DataError(file, 0, name, fmt::format("malformed header entry: {}", e.what()));
    }
  }
  return out;
}

}  // namespace finfuse::formats
