#!/usr/bin/env bash
# The main job: installs what is missing, builds finfuse in Release, and runs the main example end to end on real data.
# Where the StockNet data set is present ($FINFUSE_DATA_DIR/stocknet or ../shared/data/stocknet next to the
# repository), that is the StockNet market-prediction suite (prices, tweets, sector and correlation graphs, charts;
# five seeds each, dev and test against the published results); otherwise the chart-image CNN on the S&P 500 series
# fetched from npm. The report and the results land in build/release/stocknet-run/ or build/release/chart-run/.
# Extra arguments go to the example program (e.g. --seeds 1).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
bash scripts/fetch-data.sh

stocknet=""
for dir in "${FINFUSE_DATA_DIR:-}" "$root/../shared/data"; do
  if [[ -n "$dir" && -f "$dir/stocknet/prices.csv" && -f "$dir/stocknet/tweets.jsonl" && -f "$dir/stocknet/StockTable" ]]; then
    stocknet=$(cd "$dir" && pwd)
    break
  fi
done

build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFINFUSE_BUILD_TESTS=OFF -DFINFUSE_BUILD_BENCHMARKS=OFF -DFINFUSE_BUILD_EXAMPLES=ON
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
