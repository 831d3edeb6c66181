#!/usr/bin/env bash
# The main job: installs what is missing, builds finfuse in Release, and runs the quickstart training run.
# Extra arguments go to the program (e.g. --epochs 5). Results land in build/release/quickstart-run/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh

build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFINFUSE_BUILD_TESTS=OFF -DFINFUSE_BUILD_BENCHMARKS=OFF -DFINFUSE_BUILD_EXAMPLES=ON
cmake --build "$build" --parallel "$(nproc)" --target finfuse_quickstart

"$build/examples/finfuse_quickstart" --out "$build/quickstart-run" "$@"
