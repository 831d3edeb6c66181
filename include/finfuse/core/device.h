// Device selection: "auto", "cpu", "cuda", "cuda:N", resolved once (by the trainer or the caller) into a
// concrete c10::Device. Components then follow their inputs' device and never pick one themselves.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace finfuse {

/// Whether a CUDA device is usable by this build and machine.
bool cuda_available();

/// Number of visible CUDA devices (0 on CPU-only builds or machines).
int cuda_device_count();

/// Resolves a device specification. "auto" is cuda:0 when CUDA is available and cpu otherwise; "cuda" is
/// cuda:0. Throws finfuse::Error for a malformed specification or a CUDA device that does not exist.
c10::Device resolve_device(const std::string& spec);

/// Checks the spelling of a device specification without asking whether the device exists, so that a
/// configuration written on a CPU machine for a GPU machine still validates. Throws finfuse::Error.
void validate_device_spec(const std::string& spec);

/// "cpu", "cuda:0".
std::string device_string(const c10::Device& device);

}  // namespace finfuse
