#!/usr/bin/env bash
# Installs what is missing, builds finfuse with its tests, examples and benchmarks (warnings are errors), and
# runs the whole test suite through ctest. FINFUSE_BUILD_TYPE=Debug tests a Debug build (default Release);
# FINFUSE_LIBTORCH=torch2 tests against the current LibTorch 2.x instead of Debian's 1.13 (scripts/libtorch.sh).
# The build compiles the sources of each target in batches (CMake's unity build; figures in docs/reliability.md);
# FINFUSE_UNITY_BUILD=OFF compiles file by file, faster when one edits and rebuilds a few files.
# FINFUSE_BUILD_BENCHMARKS=OFF leaves the benchmarks out (CI's LibTorch 2.x stage, which has them in its first stage).
# Extra arguments go to ctest (e.g. -L unit, -R Trainer).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/libtorch.sh
# The Python packages the tests take reference outputs from (Hugging Face's tokenizers), in a virtual environment.
if [[ -z ${FINFUSE_OFFLINE_DEPS:-} ]]; then
  bash scripts/install-reference-python.sh
fi

build_type=${FINFUSE_BUILD_TYPE:-Release}
build="build/test-${build_type,,}${libtorch_suffix}"
jobs=$(nproc)

start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
  -DFINFUSE_BUILD_TESTS=ON -DFINFUSE_BUILD_EXAMPLES=ON -DFINFUSE_BUILD_BENCHMARKS="${FINFUSE_BUILD_BENCHMARKS:-ON}" \
  -DFINFUSE_WARNINGS_AS_ERRORS=ON -DCMAKE_UNITY_BUILD="${FINFUSE_UNITY_BUILD:-ON}" ${libtorch_args[@]+"${libtorch_args[@]}"}
cmake --build "$build" --parallel "$jobs"
echo "finfuse: built in $(($(date +%s) - start)) s ($build)"

cd "$build"
ctest --output-on-failure --parallel "$jobs" --timeout 1800 "$@"
