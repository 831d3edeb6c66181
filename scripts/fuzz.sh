#!/usr/bin/env bash
# Fuzzes every parser of user files: builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build/hardening, runs each for a bounded time from its seed corpus (tests/fuzz/corpus and
# tests/fuzz/regressions, plus generated bundle and checkpoint seeds), and prints executions and crashes per target.
# A crashing input is kept under build/hardening/crashes/<target>/; once fixed it belongs in tests/fuzz/regressions/<target>/,
# where the unit tests replay it. Not part of the default test run.
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(price_csv numeric_csv text_jsonl stocknet_jsonl edge_list config_json vocabulary bundle_archive checkpoint)
fi
build=$("$root/scripts/configure-hardening.sh")
cmake --build "$build" --target "${targets[@]/#/finfuse_fuzz_}"
# LibTorch keeps static allocations to the end of the process: leaks are not what is looked for here.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 OMP_NUM_THREADS=1
printf '\n| target | seconds | executions | corpus | crashes |\n| --- | ---: | ---: | ---: | ---: |\n' > "$build/summary.md"
status=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  crashes="$build/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  for seeds in "$root/tests/fuzz/corpus/$target" "$root/tests/fuzz/regressions/$target"; do
    [[ -d $seeds ]] && cp -n "$seeds"/* "$corpus"/ 2> /dev/null || true
  done
  log="$build/$target.log"
  echo "fuzzing $target for $seconds s"
  FINFUSE_FUZZ_WRITE_SEEDS="$corpus" "$build/tests/fuzz/finfuse_fuzz_$target" "$corpus" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=6144 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$crashes/" > "$log" 2>&1 || true
  executions=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  found=$(find "$crashes" -type f | wc -l)
  entries=$(find "$corpus" -type f | wc -l)
  printf '| %s | %s | %s | %s | %s |\n' "$target" "$seconds" "${executions:-?}" "$entries" "$found" >> "$build/summary.md"
  if ((found > 0)); then
    status=1
    echo "  $found crashing input(s) in $crashes; see $log"
  fi
done
cat "$build/summary.md"
exit $status
