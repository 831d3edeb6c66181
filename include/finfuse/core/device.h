// Device selection: "auto", "cpu", "cuda", "cuda:N", resolved once (by the trainer or the caller) into a
// concrete c10::Device. Components then follow their inputs' device and never pick one themselves.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <optional>
#include <string>

namespace finfuse {

/// Whether a CUDA device is usable by this build and machine.
bool cuda_available();

/// Number of visible CUDA devices (0 on CPU-only builds or machines).
int cuda_device_count();

/// Resolves a device specification. "auto" is cuda:0 when CUDA is available and cpu otherwise; "cuda" is
/// cuda:0. Throws finfuse::Error for a malformed specification or a CUDA device that does not exist.
c10::Device resolve_device(const std::string& spec);

/// Resolves a device specification for one rank of a distributed job on this node: "auto" and "cuda" become
/// cuda:LOCAL_RANK (one GPU per rank), an explicit "cuda:N" stays as written, "cpu" stays the CPU. Throws
/// finfuse::Error naming LOCAL_RANK when this node has fewer GPUs than local ranks.
c10::Device resolve_device(const std::string& spec, std::int64_t local_rank);

/// resolve_device() against a given number of visible CUDA devices, with an optional local rank (what the two
/// functions above do with cuda_device_count()).
c10::Device resolve_device(const std::string& spec, int cuda_devices, std::optional<std::int64_t> local_rank);

/// Checks the spelling of a device specification without asking whether the device exists, so that a
/// configuration written on a CPU machine for a GPU machine still validates. Throws finfuse::Error.
void validate_device_spec(const std::string& spec);

/// "cpu", "cuda:0".
std::string device_string(const c10::Device& device);

}  // namespace finfuse
