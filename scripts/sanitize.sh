#!/usr/bin/env bash
# Runs the unit tests with finfuse's own code built with AddressSanitizer and UndefinedBehaviorSanitizer (clang,
# build/hardening): any invalid memory access, use after free, overflow or undefined behaviour in finfuse fails the
# test that triggers it. LibTorch itself is not instrumented. Not part of the default test run.
# The tests run one process per test suite (as many at once as there are cores) rather than one per test as ctest runs
# them: an instrumented process takes about 1.6 s to start with LibTorch loaded, which would otherwise be most of the
# stage. A failing suite's output is printed and kept in build/hardening/sanitize/<suite>.log.
#   scripts/sanitize.sh [GTEST_FILTER]      e.g. scripts/sanitize.sh 'Tokenizer*'
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
filter=${1:-*}
build=$("$root/scripts/configure-hardening.sh")
cmake --build "$build" --target finfuse_tests finfuse_cli
# LibTorch keeps static allocations to the end of the process: leaks are not what is looked for here. A report
# aborts the test (halt_on_error), so its suite fails with the report in its output.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tests="$build/tests/finfuse_tests"
logs="$build/sanitize"
rm -rf "$logs"
mkdir -p "$logs"
# What ctest's `unit` label holds: every test but the CUDA ones and the soak test (tests/CMakeLists.txt).
excluded='*_CUDA:Soak.*'
mapfile -t suites < <("$tests" --gtest_list_tests --gtest_filter="$filter-$excluded" |
  grep -E '^[^ ].*\.( .*)?$' | grep -v '^Running main' | sed -E 's/\.( .*)?$//')
if ((${#suites[@]} == 0)); then
  echo "finfuse: no test suite matches '$filter'" >&2
  exit 1
fi

run_suite() {
  local suite=$1
  local log="$logs/${suite//\//_}.log"
  # The tests' working folder, as under ctest.
  if (cd "$build/tests" && timeout 900 "$tests" --gtest_filter="$suite.*-$excluded" > "$log" 2>&1); then
    return 0
  fi
  echo "finfuse: sanitizers: $suite failed ($log):" >&2
  tail -n 200 "$log" >&2
  touch "$logs/failed"
  return 1
}

start=$(date +%s)
jobs=$(nproc)
for suite in "${suites[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do
    wait -n || true
  done
  run_suite "$suite" &
done
wait || true
tests_run=$(cat "$logs"/*.log | grep -c '^\[       OK \]' || true)
if [[ -e $logs/failed ]]; then
  echo "finfuse: sanitizers: failures above ($tests_run tests passed)" >&2
  exit 1
fi
echo "finfuse: sanitizers: ${#suites[@]} suites, $tests_run tests passed in $(($(date +%s) - start)) s"
# The unit-labelled entries that are not tests of finfuse_tests (the reference-BLAS warning of the finfuse tool).
if [[ $filter == '*' ]]; then
  (cd "$build" && ctest -L unit -R '^runtime\.' --output-on-failure --timeout 900)
fi
