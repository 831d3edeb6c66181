#!/usr/bin/env bash
# The main job: installs what is missing, fetches the S&P 500 series from npm, builds finfuse in Release, and runs
# the chart-image CNN example on it (five seeds of a walk-forward, a few minutes on two cores). The report and the
# results land in build/release/chart-run/. Extra arguments go to the example program (e.g. --seeds 1).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
bash scripts/fetch-data.sh

build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFINFUSE_BUILD_TESTS=OFF -DFINFUSE_BUILD_BENCHMARKS=OFF -DFINFUSE_BUILD_EXAMPLES=ON
cmake --build "$build" --parallel "$(nproc)" --target finfuse_example_chart finfuse_cli

"$build/examples/finfuse_example_chart" --out "$build/chart-run" "$@"
