// A libFuzzer target: FINFUSE_FUZZ_TARGET names the parser (see harness.h).
#include "harness.h"

#include "finfuse/core/logging.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

// FINFUSE_FUZZ_WRITE_SEEDS=DIR: write valid binary inputs of this target to DIR first (scripts/fuzz.sh).
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Parsers log what they read; a fuzzer runs them millions of times. (The replay test keeps the log.)
  finfuse::logger()->set_level(spdlog::level::off);
  if (const char* dir = std::getenv("FINFUSE_FUZZ_WRITE_SEEDS"); dir != nullptr && *dir != '\0') {
    finfuse::fuzz::write_binary_seeds(FINFUSE_FUZZ_TARGET, dir);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  finfuse::fuzz::run(FINFUSE_FUZZ_TARGET, data, size);
  return 0;
}
