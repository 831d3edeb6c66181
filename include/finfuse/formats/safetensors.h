// Files in the safetensors format (Hugging Face): named tensors with their dtype, shape and byte range, and no code.
#pragma once

#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>

namespace finfuse::formats {

/// Tensors by name.
using TensorMap = std::map<std::string, torch::Tensor>;

/// Reads every tensor of a safetensors file (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL) onto the CPU. IoError
/// for a missing or unreadable file; DataError naming the file and the tensor for a malformed header, an unsupported
/// dtype or a byte range that does not match the shape.
TensorMap read_safetensors(const std::filesystem::path& path);

/// Writes `tensors` (contiguous little-endian copies on the CPU, names in sorted order, 8-byte aligned header) as a
/// safetensors file, atomically; `metadata` goes to the header's "__metadata__" (Hugging Face writes {"format": "pt"}).
/// Error naming the tensor for a dtype the format lacks.
void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace finfuse::formats
