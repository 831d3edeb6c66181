#!/usr/bin/env bash
# Runs finfuse's encoder benchmarks and the same modules in Python PyTorch on this machine, alternately, one thread
# each, and prints a Markdown table with the time ratio finfuse / Python (below 1: finfuse is faster).
#   bench/compare_encoders.sh BUILD_DIR [ROUNDS]
set -euo pipefail
build=${1:?usage: compare_encoders.sh BUILD_DIR [ROUNDS]}
rounds=${2:-2}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
for ((r = 0; r < rounds; ++r)); do
  OMP_NUM_THREADS=1 "$build/bench/finfuse_bench_encoders" --benchmark_min_time=0.5 --benchmark_format=csv 2>/dev/null |
    awk -F, 'NR > 1 && $1 ~ /^"BM_/ {gsub(/"/, "", $1); print $1, $3}' >> "$tmp/cpp"
  OMP_NUM_THREADS=1 "$python" "$here/python/encoders_bench.py" --seconds 0.5 >> "$tmp/python"
done
echo "| encoder | finfuse (ms) | Python PyTorch (ms) | finfuse / Python |"
echo "| --- | ---: | ---: | ---: |"
join <(medians "$tmp/cpp" | sort) <(medians "$tmp/python" | sort) |
  awk '{printf "| %s | %.3f | %.3f | %.2f |\n", substr($1, 4), $2, $3, $2 / $3}'
