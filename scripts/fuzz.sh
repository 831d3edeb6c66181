#!/usr/bin/env bash
# Fuzzes every parser of user files: builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build/hardening, runs each for a bounded time from its seed corpus (tests/fuzz/corpus and
# tests/fuzz/regressions, plus generated bundle and checkpoint seeds), as many at once as there are cores, and prints
# executions and crashes per target (also written to build/hardening/fuzz-summary.md). `.ci/run` runs it for 30 s per
# target. A crashing input is kept under build/hardening/crashes/<target>/ and fails the run; once fixed it belongs in
# tests/fuzz/regressions/<target>/, where the unit tests replay it.
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
build=$("$root/scripts/configure-hardening.sh")
targets=("$@")
if ((${#targets[@]} == 0)); then
  IFS=';' read -r -a targets < "$build/tests/fuzz/targets.txt" || true  # the list has no final newline
fi
if ((${#targets[@]} == 0)); then
  echo "finfuse: no fuzz targets listed in $build/tests/fuzz/targets.txt" >&2
  exit 1
fi
cmake --build "$build" --target "${targets[@]/#/finfuse_fuzz_}"
jobs=$(nproc)  # before OMP_NUM_THREADS is set: nproc honours it
# LibTorch keeps static allocations to the end of the process: leaks are not what is looked for here.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 OMP_NUM_THREADS=1

fuzz_one() {
  local target=$1
  local corpus="$build/corpus/$target" crashes="$build/crashes/$target" log="$build/fuzz-$target.log"
  mkdir -p "$corpus" "$crashes"
  for seeds in "$root/tests/fuzz/corpus/$target" "$root/tests/fuzz/regressions/$target"; do
    [[ -d $seeds ]] && cp -n "$seeds"/* "$corpus"/ 2> /dev/null || true
  done
  # libFuzzer's exit status is not used: a crash is what it leaves under $crashes.
  FINFUSE_FUZZ_WRITE_SEEDS="$corpus" "$build/tests/fuzz/finfuse_fuzz_$target" "$corpus" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$crashes/" > "$log" 2>&1 || true
}

echo "finfuse: fuzzing ${#targets[@]} targets for $seconds s each, $jobs at a time"
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do
    wait -n || true
  done
  fuzz_one "$target" &
done
wait

summary="$build/fuzz-summary.md"
printf '| target | seconds | executions | corpus | crashes |\n| --- | ---: | ---: | ---: | ---: |\n' > "$summary"
status=0
for target in "${targets[@]}"; do
  log="$build/fuzz-$target.log" crashes="$build/crashes/$target"
  executions=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  found=$(find "$crashes" -type f | wc -l)
  entries=$(find "$build/corpus/$target" -type f | wc -l)
  printf '| %s | %s | %s | %s | %s |\n' "$target" "$seconds" "${executions:-?}" "$entries" "$found" >> "$summary"
  if [[ -z $executions ]]; then
    status=1
    echo "finfuse: $target did not finish its run; the end of $log:" >&2
    tail -20 "$log" >&2
  fi
  if ((found > 0)); then
    status=1
    echo "finfuse: $target: $found crashing input(s) in $crashes; the report, from $log:" >&2
    grep -m1 -A25 -E "ERROR: |runtime error|finfuse fuzz:" "$log" >&2 || tail -30 "$log" >&2
  fi
done
cat "$summary"
exit $status
