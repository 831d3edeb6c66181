#!/usr/bin/env bash
# Data-parallel training throughput on this machine: the StockNet prices + tweets model (the suite's "concat"
# configuration, 2 epochs, 1 seed) trained by one process with every core, and by `finfuse launch --nproc 2` (Gloo on
# loopback, the cores divided between the ranks) with the same global batch and with twice the global batch. Prints a
# Markdown table of training samples/s (the last epoch's, all ranks together) and wall seconds.
#   bench/compare_distributed.sh BUILD_DIR [DATA_DIR]
set -euo pipefail
build=${1:?usage: compare_distributed.sh BUILD_DIR [DATA_DIR]}
data=$(cd "${2:-$(dirname "$0")/../../shared/data}" && pwd)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
export FINFUSE_DATA_DIR=$data
cores=$(nproc)
finfuse=$(cd "$build/src/cli" && pwd)/finfuse
"$build/examples/finfuse_example_stocknet" --data-dir "$data" --print-config concat > "$tmp/base.json"
configure() {  # configure NAME BATCH
  "$python" - "$tmp/base.json" "$tmp/$1.json" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["training"].update(epochs=2, batch_size=int(sys.argv[3]), progress="none")
c["experiment"]["seeds"] = [1]
json.dump(c, open(sys.argv[2], "w"))
PY
}
configure one 64
configure two_same_global 32
configure two_double_global 64
# The dataset cache is built once, outside the timings.
"$finfuse" data -c "$tmp/one.json" --quiet > /dev/null
run() {  # run NAME PROCESSES -> "samples_per_second seconds"
  local out
  if [[ $2 == 1 ]]; then
    out=$(OMP_NUM_THREADS=$cores "$finfuse" train -c "$tmp/$1.json" -o "$tmp/$1" --format json --quiet)
  else
    out=$("$finfuse" launch --nproc "$2" --quiet -- "$finfuse" train -c "$tmp/$1.json" -o "$tmp/$1" --format json --quiet)
  fi
  "$python" -c 'import json, sys
r = json.loads(sys.stdin.read())
print(r["metrics"]["history"][-1]["values"]["samples_per_second"], r["seconds"])' <<< "$out"
}
read -r one_sps one_s < <(run one 1)
read -r same_sps same_s < <(run two_same_global 2)
read -r double_sps double_s < <(run two_double_global 2)
echo "StockNet prices + tweets (concat), 2 epochs, $cores cores"
echo
echo "| run | global batch | training samples/s | x one process | wall seconds |"
echo "| --- | ---: | ---: | ---: | ---: |"
printf '| 1 process, %s threads | 64 | %.0f | 1.00 | %.1f |\n' "$cores" "$one_sps" "$one_s"
printf '| 2 processes x %s thread(s), batch 32 each | 64 | %.0f | %.2f | %.1f |\n' "$((cores / 2 > 0 ? cores / 2 : 1))" \
  "$same_sps" "$("$python" -c "print($same_sps / $one_sps)")" "$same_s"
printf '| 2 processes x %s thread(s), batch 64 each | 128 | %.0f | %.2f | %.1f |\n' "$((cores / 2 > 0 ? cores / 2 : 1))" \
  "$double_sps" "$("$python" -c "print($double_sps / $one_sps)")" "$double_s"
