#!/usr/bin/env bash
# The data path on the real StockNet files, finfuse (finfuse_bench_data --lines) against the same work in pandas and
# numpy (bench/python/data_bench.py), alternately; prints a Markdown table of the medians and the speed-up.
#   bench/compare_data.sh BUILD_DIR [DATA_DIR] [ROUNDS]
set -euo pipefail
build=${1:?usage: compare_data.sh BUILD_DIR [DATA_DIR] [ROUNDS]}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data=${2:-${FINFUSE_DATA_DIR:-$here/../../shared/data}}
rounds=${3:-3}
for ((r = 0; r < rounds; ++r)); do
  "$build/bench/finfuse_bench_data" "$data" --repeat 1 --lines >> "$tmp/cpp"
  "$python" "$here/python/data_bench.py" "$data" --repeat 1 >> "$tmp/python"
done
join <(medians "$tmp/cpp" | sort) <(medians "$tmp/python" | sort) > "$tmp/both"
awk '$1 == "samples" {printf "samples: finfuse %.0f, pandas %.0f\n\n", $2, $3}' "$tmp/both"
echo "| step | finfuse (s) | pandas + numpy (s) | speed-up |"
echo "| --- | ---: | ---: | ---: |"
for step in parse_prices parse_tweets assemble build total; do
  awk -v step="$step" '$1 == step {printf "| %s | %.3f | %.3f | %.1fx |\n", $1, $2, $3, $3 / $2}' "$tmp/both"
done
