#!/usr/bin/env bash
# Configures build/hardening: clang, finfuse's own code built with AddressSanitizer and UndefinedBehaviorSanitizer
# and instrumented for libFuzzer, with the unit tests, the finfuse tool and the fuzz targets. Shared by
# scripts/fuzz.sh and scripts/sanitize.sh; installs clang and its runtimes first when missing. Prints the folder.
# Sources are compiled in batches (CMake's unity build) unless FINFUSE_UNITY_BUILD=OFF. Unoptimised, with line tables
# only: AddressSanitizer's reports keep their file:line stacks, and the build takes about 2.5x less time than at -O2
# with full debug information (LibTorch itself is prebuilt and optimised either way).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --hardening > /dev/null
build="$root/build/hardening"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -gline-tables-only -DNDEBUG" -DCMAKE_CXX_COMPILER=clang++ \
  -DFINFUSE_BUILD_FUZZERS=ON -DFINFUSE_SANITIZE=address,undefined -DFINFUSE_BUILD_TESTS=ON -DFINFUSE_BUILD_CLI=ON \
  -DFINFUSE_BUILD_EXAMPLES=OFF -DFINFUSE_BUILD_BENCHMARKS=OFF -DFINFUSE_INSTALL=OFF \
  -DCMAKE_UNITY_BUILD="${FINFUSE_UNITY_BUILD:-ON}" > /dev/null
echo "$build"
