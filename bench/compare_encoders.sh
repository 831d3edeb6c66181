#!/usr/bin/env bash
# Runs finfuse's encoder benchmarks and the same modules in Python PyTorch on this machine, alternately, one thread
# each, and prints a Markdown table with the time ratio finfuse / Python (below 1: finfuse is faster).
#   bench/compare_encoders.sh BUILD_DIR [ROUNDS]
set -euo pipefail
build=${1:?usage: compare_encoders.sh BUILD_DIR [ROUNDS]}
rounds=${2:-2}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3
[[ -x $python ]] || python=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < rounds; ++r)); do
  OMP_NUM_THREADS=1 "$build/bench/finfuse_bench_encoders" --benchmark_min_time=0.5 --benchmark_format=csv 2>/dev/null |
    awk -F, 'NR > 1 && $1 ~ /^"BM_/ {gsub(/"/, "", $1); print $1, $3}' >> "$tmp/cpp"
  OMP_NUM_THREADS=1 "$python" "$here/python/encoders_bench.py" --seconds 0.5 >> "$tmp/python"
done
echo "| encoder | finfuse (ms) | Python PyTorch (ms) | finfuse / Python |"
echo "| --- | ---: | ---: | ---: |"
# Medians over the rounds, per benchmark.
join <(sort "$tmp/cpp" | awk '{a[$1] = a[$1] " " $2} END {for (k in a) print k, a[k]}' | sort) \
     <(sort "$tmp/python" | awk '{a[$1] = a[$1] " " $2} END {for (k in a) print k, a[k]}' | sort) |
  python3 -c '
import sys, statistics
for line in sys.stdin:
    parts = line.split()
    name, values = parts[0], [float(v) for v in parts[1:]]
    half = len(values) // 2
    cpp, py = statistics.median(values[:half]), statistics.median(values[half:])
    print(f"| {name[3:]} | {cpp:.3f} | {py:.3f} | {cpp / py:.2f} |")
'
