#!/usr/bin/env bash
# A real training alone and two copies of it at once on the same cores: `finfuse train CONFIG` (its "training.epochs"
# as given), then two such runs started together. Prints each run's training throughput per epoch (samples/s from
# its metrics.json) and the share of the solo figure each run of the pair kept (median over epochs).
#   bench/concurrent_training.sh BUILD_DIR CONFIG.json
# Example (StockNet, prices + tweets, 4 epochs; the data set from ../shared/data or $FINFUSE_DATA_DIR):
#   build/release/examples/finfuse_example_stocknet --print-config attention > sn.json   # then set epochs, drop seeds
#   bench/concurrent_training.sh build/release sn.json
set -euo pipefail
build=${1:?usage: concurrent_training.sh BUILD_DIR CONFIG.json}
config=${2:?usage: concurrent_training.sh BUILD_DIR CONFIG.json}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cli="$build/src/cli/finfuse"
run() { "$cli" train -c "$config" -o "$tmp/$1" --quiet > "$tmp/$1.log" 2>&1 || { cat "$tmp/$1.log" >&2; exit 1; }; }
run solo
run a &
a=$!
run b &
b=$!
wait "$a" "$b"
"$python" - "$tmp" <<'PY'
import json, os, statistics, sys
tmp = sys.argv[1]
speeds = {r: [e["values"]["samples_per_second"] for e in json.load(open(os.path.join(tmp, r, "metrics.json")))["history"]]
          for r in ("solo", "a", "b")}
solo = statistics.median(speeds["solo"])
print(f"{os.cpu_count()} cores; training samples/s per epoch")
for r in ("solo", "a", "b"):
    kept = "" if r == "solo" else f"; kept {statistics.median(speeds[r]) / solo:.0%}"
    print(f"{r}: {', '.join(f'{s:.0f}' for s in speeds[r])} (median {statistics.median(speeds[r]):.0f}{kept})")
PY
