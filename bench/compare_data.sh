#!/usr/bin/env bash
# The data path on the real StockNet files, finfuse (finfuse_bench_data --lines) against the same work in pandas and
# numpy (bench/python/data_bench.py), alternately; prints a Markdown table of the medians and the speed-up.
#   bench/compare_data.sh BUILD_DIR [DATA_DIR] [ROUNDS]
set -euo pipefail
build=${1:?usage: compare_data.sh BUILD_DIR [DATA_DIR] [ROUNDS]}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=${2:-${FINFUSE_DATA_DIR:-$here/../../shared/data}}
rounds=${3:-3}
python=/usr/bin/python3
[[ -x $python ]] || python=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < rounds; ++r)); do
  "$build/bench/finfuse_bench_data" "$data" --repeat 1 --lines >> "$tmp/cpp"
  "$python" "$here/python/data_bench.py" "$data" --repeat 1 >> "$tmp/python"
done
"$python" - "$tmp/cpp" "$tmp/python" <<'PY'
import statistics, sys
def read(path):
    values = {}
    for line in open(path):
        name, value = line.split()
        values.setdefault(name, []).append(float(value))
    return {k: statistics.median(v) for k, v in values.items()}
cpp, py = read(sys.argv[1]), read(sys.argv[2])
print(f"samples: finfuse {cpp['samples']:.0f}, pandas {py['samples']:.0f}\n")
print("| step | finfuse (s) | pandas + numpy (s) | speed-up |")
print("| --- | ---: | ---: | ---: |")
for name in ("parse_prices", "parse_tweets", "assemble", "build", "total"):
    print(f"| {name} | {cpp[name]:.3f} | {py[name]:.3f} | {py[name] / cpp[name]:.1f}x |")
PY
