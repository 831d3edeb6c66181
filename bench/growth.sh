#!/usr/bin/env bash
# How the data path grows with the universe. For each scale, `finfuse universe` writes a synthetic universe (daily bars,
# texts, a relation graph, minute bars if asked) and `finfuse data --cache-dir` builds its dataset file from run.json
# (prices and texts read in blocks, 5-day windows; with minute bars, also the intraday modality's windows of the last
# 390 minute bars), the file `finfuse train --cache-dir` reopens; prints a Markdown table: bars, texts, the raw float32
# size of the series (bars x 6 values x 4 bytes), the build's seconds and peak memory (/usr/bin/time), and the peak as
# a multiple of the raw series. When the build has the benchmarks, bench/finfuse_bench_loader then adds the dataset
# file's size, the seconds to reopen it, and the loader's and the model's samples a second on the training batches
# (loader_bench.cpp).
#
#   bench/growth.sh BUILD_DIR [SCALE...]
#
# SCALE is STOCKSxYEARS, optionally followed by mDAYS (minute bars for the last DAYS sessions, which run.json then
# reads as the intraday modality) and :TEXTS_PER_DAY (the generator's texts_per_day); default 500x10 2000x10 8000x10
# (1x, 4x, 16x of 500 stocks x 10 years). The minute-bar case is 500x1m252. "raw" counts 6 float32 values a daily bar
# and 5 a minute bar. FINFUSE_GROWTH_DIR keeps the universes there instead of a temporary folder
# (each is removed after its row unless FINFUSE_GROWTH_KEEP=1).
set -euo pipefail
build=${1:?usage: growth.sh BUILD_DIR [SCALE...]}
shift
scales=("$@")
if ((${#scales[@]} == 0)); then
  scales=(500x10 2000x10 8000x10)
fi
finfuse=$build/src/cli/finfuse
[[ -x $finfuse ]] || { echo "growth.sh: $finfuse is not built (cmake --build $build --target finfuse_cli)" >&2; exit 2; }
work=${FINFUSE_GROWTH_DIR:-$(mktemp -d)}
[[ -n ${FINFUSE_GROWTH_DIR:-} ]] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

loader_bench=$build/bench/finfuse_bench_loader
if [[ -x $loader_bench ]]; then
  echo "| universe | bars | texts | raw float32 series | generate (s) | build (s) | build peak memory | peak / raw |" \
       "dataset file | reopen (s) | loader (samples/s) | model (samples/s) | loader / model |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
else
  echo "| universe | bars | texts | raw float32 series | generate (s) | build (s) | build peak memory | peak / raw |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
fi
for scale in "${scales[@]}"; do
  shape=${scale%%:*}
  minute_days=0
  if [[ $shape == *m* ]]; then
    minute_days=${shape##*m}
    shape=${shape%%m*}
  fi
  stocks=${shape%%x*}
  years=${shape##*x}
  out=$work/u$scale
  rm -rf "$out"
  options=(--minute-days "$minute_days")
  if [[ $scale == *:* ]]; then
    echo "{\"texts_per_day\": ${scale##*:}}" > "$work/options-$scale.json"
    options+=(-c "$work/options-$scale.json")
  fi
  generate=$( { /usr/bin/time -f "%e" "$finfuse" universe -o "$out" --stocks "$stocks" --years "$years" \
                ${options[@]+"${options[@]}"} -q > /dev/null; } 2>&1 | tail -1)
  summary=$out/summary.json
  # Inputs modified less than two seconds before they are hashed are hashed again at every reopening (their time may
  # hide a change; data.md, "The dataset cache"): files just written would make the reopening time their hashing.
  sleep 2
  measured=$( { /usr/bin/time -f "%e %M" "$finfuse" data -c "$out/run.json" --cache-dir "$out/cache" --format json -q \
               > "$summary"; } 2>&1 | tail -1)
  read -r seconds peak_kb <<< "$measured"
  loader=$out/loader.txt
  : > "$loader"
  if [[ -x $loader_bench ]]; then
    "$loader_bench" "$out/run.json" --cache "$out/cache" --reopen-only > "$loader"
  fi
  python3 - "$summary" "$loader" "$scale" "$generate" "$seconds" "$peak_kb" <<'PY'
import json, sys
summary, loader, scale, generate, seconds, peak_kb = sys.argv[1:]
s = json.load(open(summary))
bars = s["sources"]["prices"]["rows"]
minutes = s["sources"].get("intraday", {}).get("rows", 0)
texts = s["sources"].get("texts", {}).get("texts", 0)
raw = (bars * 6 + minutes * 5) * 4
peak = int(peak_kb) * 1024
shown = f"{bars:,} + {minutes:,} minute" if minutes else f"{bars:,}"
row = (f"| {scale} | {shown} | {texts:,} | {raw / 1e6:,.0f} MB | {float(generate):.1f} | {float(seconds):.1f} | "
       f"{peak / 1e6:,.0f} MB | {peak / raw:.1f}x |")
values = dict(line.split() for line in open(loader) if line.strip())
if values:
    row += (f" {int(values['cache_bytes']) / 1e6:,.0f} MB | {float(values['reopen_seconds']):.3f} | "
            f"{float(values['loader_samples_per_second']):,.0f} | {float(values['model_samples_per_second']):,.0f} | "
            f"{float(values['loader_over_model']):.0f}x |")
print(row)
PY
  [[ ${FINFUSE_GROWTH_KEEP:-0} == 1 ]] || rm -rf "$out"
done
