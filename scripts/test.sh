#!/usr/bin/env bash
# Installs what is missing, builds finfuse with its tests, examples and benchmarks (warnings are errors), and
# runs the whole test suite through ctest. FINFUSE_BUILD_TYPE=Debug tests a Debug build (default Release).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
# The S&P 500 series from npm for the chart example's test; without the registry it reads ../shared/data instead.
bash scripts/fetch-data.sh || echo "finfuse: could not fetch vega-datasets from npm; the chart example reads ../shared/data"

build_type=${FINFUSE_BUILD_TYPE:-Release}
build="build/test-${build_type,,}"
jobs=$(nproc)

start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
  -DFINFUSE_BUILD_TESTS=ON -DFINFUSE_BUILD_EXAMPLES=ON -DFINFUSE_BUILD_BENCHMARKS=ON \
  -DFINFUSE_WARNINGS_AS_ERRORS=ON
cmake --build "$build" --parallel "$jobs"
echo "finfuse: built in $(($(date +%s) - start)) s"

cd "$build"
ctest --output-on-failure --parallel "$jobs" --timeout 1800
