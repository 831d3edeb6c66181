// The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
// byte range, then the raw data.
#include "finfuse/formats/safetensors.h"

#include "finfuse/core/check.h"
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
      // Sizes come from the file: every product is checked before it is trusted.
      std::int64_t count = 1;
      for (const auto d : shape) {
        if (d < 0) {
          throw DataError(file, 0, name, "negative dimension");
        }
        if (__builtin_mul_overflow(count, d, &count)) {
          throw DataError(file, 0, name, fmt::format("shape {} has more elements than 64 bits count", shape_string(shape)));
        }
      }
      std::uint64_t expected = 0;
      if (__builtin_mul_overflow(static_cast<std::uint64_t>(count), static_cast<std::uint64_t>(c10::elementSize(dtype)),
                                 &expected)) {
        throw DataError(file, 0, name, fmt::format("shape {} needs more bytes than 64 bits count", shape_string(shape)));
      }
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size || offsets[1] - offsets[0] != expected) {
        throw DataError(file, 0, name, fmt::format("data offsets do not match its shape {} and dtype", shape_string(shape)));
      }
      auto tensor = torch::empty(shape, torch::TensorOptions().dtype(dtype));
      if (expected > 0) {  // an empty tensor has no storage to copy into
        std::memcpy(tensor.data_ptr(), bytes.data() + data_start + offsets[0], expected);
      }
      out.emplace(name, tensor);
    } catch (const Json::exception& e) {
      throw DataError(file, 0, name, fmt::format("malformed header entry: {}", e.what()));
    }
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  static const std::map<c10::ScalarType, const char*> names = {
      {torch::kFloat64, "F64"}, {torch::kFloat32, "F32"}, {torch::kFloat16, "F16"}, {torch::kBFloat16, "BF16"},
      {torch::kInt64, "I64"},   {torch::kInt32, "I32"},   {torch::kInt16, "I16"},   {torch::kInt8, "I8"},
      {torch::kUInt8, "U8"},    {torch::kBool, "BOOL"}};
  Json header = Json::object();
  if (!metadata.empty()) {
    header["__metadata__"] = metadata;
  }
  std::vector<torch::Tensor> data;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const auto it = names.find(tensor.scalar_type());
    FINFUSE_CHECK(it != names.end(), "write_safetensors: tensor '", name, "' of ", path.string(), " has dtype ",
                  tensor.scalar_type(), ", which the safetensors format does not hold");
    auto cpu = tensor.detach().to(torch::kCPU).contiguous();
    const auto bytes = static_cast<std::uint64_t>(cpu.numel()) * static_cast<std::uint64_t>(cpu.element_size());
    header[name] = Json{{"dtype", it->second},
                        {"shape", std::vector<std::int64_t>(cpu.sizes().begin(), cpu.sizes().end())},
                        {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(std::move(cpu));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data start 8-byte aligned, as the reference writer keeps them
  std::string out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xFF));
  }
  out += text;
  for (const auto& t : data) {
    if (t.numel() > 0) {  // an empty tensor may have no storage at all
      out.append(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel() * t.element_size()));
    }
  }
  write_file_atomically(path, out);
}

}  // namespace finfuse::formats
