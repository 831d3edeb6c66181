#!/usr/bin/env bash
# Runs the unit tests with finfuse's own code built with AddressSanitizer and UndefinedBehaviorSanitizer (clang,
# build/hardening): any invalid memory access, use after free, overflow or undefined behaviour in finfuse fails the
# test that triggers it. LibTorch itself is not instrumented. Not part of the default test run (about 3x slower).
#   scripts/sanitize.sh [CTEST_ARGS...]      e.g. scripts/sanitize.sh -R Tokenizer
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$("$root/scripts/configure-hardening.sh")
cmake --build "$build" --target finfuse_tests finfuse_cli
# LibTorch keeps static allocations to the end of the process: leaks are not what is looked for here. A report
# aborts the test (halt_on_error), so ctest shows it as failed with the report in its output.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
ctest -L unit -j "$(nproc)" --output-on-failure --timeout 900 "$@"
