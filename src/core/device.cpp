#include "finfuse/core/device.h"

#include "finfuse/core/error.h"

#include <torch/cuda.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace finfuse {
namespace {

enum class Kind { automatic, cpu, cuda };

struct Spec {
  Kind kind;
  int index;
  /// "cuda:N" rather than "cuda" or "auto".
  bool explicit_index = false;
};

Spec parse_spec(const std::string& spec) {
  std::string lower;
  for (char c : spec) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (lower == "cpu") {
    return {Kind::cpu, 0};
  }
  if (lower == "auto") {
    return {Kind::automatic, 0};
  }
  if (lower == "cuda") {
    return {Kind::cuda, 0};
  }
  const std::string prefix = "cuda:";
  if (lower.rfind(prefix, 0) == 0) {
    const std::string digits = lower.substr(prefix.size());
    if (!digits.empty() && digits.size() <= 3 &&
        std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return {Kind::cuda, std::stoi(digits), true};
    }
  }
  throw Error(fmt::format("invalid device '{}': expected 'auto', 'cpu', 'cuda' or 'cuda:N'", spec));
}

// The CUDA devices a specification can use: none for "cpu", without asking CUDA.
int usable_cuda_devices(const Spec& parsed) {
  return parsed.kind == Kind::cpu || !torch::cuda::is_available() ? 0 : static_cast<int>(torch::cuda::device_count());
}

}  // namespace

bool cuda_available() { return torch::cuda::is_available(); }

int cuda_device_count() { return static_cast<int>(torch::cuda::device_count()); }

void validate_device_spec(const std::string& spec) { parse_spec(spec); }

c10::Device resolve_device(const std::string& spec) {
  return resolve_device(spec, usable_cuda_devices(parse_spec(spec)), std::nullopt);
}

c10::Device resolve_device(const std::string& spec, std::int64_t local_rank) {
  return resolve_device(spec, usable_cuda_devices(parse_spec(spec)), local_rank);
}

c10::Device resolve_device(const std::string& spec, int cuda_devices, std::optional<std::int64_t> local_rank) {
  const Spec parsed = parse_spec(spec);
  if (parsed.kind == Kind::cpu || (parsed.kind == Kind::automatic && cuda_devices == 0)) {
    return c10::Device(c10::DeviceType::CPU);
  }
  if (cuda_devices == 0) {
    throw Error(fmt::format(
        "device '{}' was requested but CUDA is not available (this LibTorch build or machine has no usable GPU); "
        "use 'cpu' or 'auto'",
        spec));
  }
  std::int64_t index = parsed.index;
  if (local_rank && !parsed.explicit_index) {
    // One GPU per rank of this node.
    if (*local_rank < 0 || *local_rank >= cuda_devices) {
      throw Error(fmt::format("device '{}' for LOCAL_RANK={}: this node has {} CUDA device(s) (cuda:0..cuda:{}); "
                              "start at most one rank per GPU on each node (finfuse launch --nproc-per-node)",
                              spec, *local_rank, cuda_devices, cuda_devices - 1));
    }
    index = *local_rank;
  }
  if (index >= cuda_devices) {
    throw Error(fmt::format("device '{}' was requested but only {} CUDA device(s) are visible (cuda:0..cuda:{})",
                            spec, cuda_devices, cuda_devices - 1));
  }
  return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
}

std::string device_string(const c10::Device& device) { return device.str(); }

}  // namespace finfuse
