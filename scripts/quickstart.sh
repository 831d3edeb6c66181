#!/usr/bin/env bash
# The main job: installs what is missing, builds finfuse in Release, and runs the main example end to end on real data.
# Where the StockNet data set is present ($FINFUSE_DATA_DIR/stocknet or ../shared/data/stocknet next to the
# repository), that is the StockNet market-prediction suite (prices, tweets, sector and correlation graphs, charts;
# five seeds each, dev and test against the published results); otherwise the chart-image CNN on the S&P 500 series
# (market/sp500-2000.csv in the same data folder). The report and the results land in build/release/stocknet-run/ or
# build/release/chart-run/. Extra arguments go to the example program (e.g. --seeds 1). FINFUSE_LIBTORCH chooses the
# LibTorch (scripts/libtorch.sh; Debian's 1.13 by default, build/release-torch2 for FINFUSE_LIBTORCH=torch2).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

source scripts/libtorch.sh

stocknet=""
for dir in "${FINFUSE_DATA_DIR:-}" "$root/../shared/data"; do
  if [[ -n "$dir" && -f "$dir/stocknet/prices.csv" && -f "$dir/stocknet/tweets.jsonl" && -f "$dir/stocknet/StockTable" ]]; then
    stocknet=$(cd "$dir" && pwd)
    break
  fi
done

build=build/release${libtorch_suffix}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFINFUSE_BUILD_TESTS=OFF -DFINFUSE_BUILD_BENCHMARKS=OFF -DFINFUSE_BUILD_EXAMPLES=ON \
  -DCMAKE_UNITY_BUILD="${FINFUSE_UNITY_BUILD:-ON}" ${libtorch_args[@]+"${libtorch_args[@]}"}
if [[ -n "$stocknet" ]]; then
  echo "quickstart: StockNet found in $stocknet: running the StockNet example"
  cmake --build "$build" --parallel "$(nproc)" --target finfuse_example_stocknet finfuse_cli
  "$build/examples/finfuse_example_stocknet" --data-dir "$stocknet" --out "$build/stocknet-run" "$@"
else
  echo "quickstart: no StockNet data (\$FINFUSE_DATA_DIR/stocknet or ../shared/data/stocknet): running the S&P 500" \
       "chart-image example"
  cmake --build "$build" --parallel "$(nproc)" --target finfuse_example_chart finfuse_cli
  "$build/examples/finfuse_example_chart" --out "$build/chart-run" "$@"
fi
