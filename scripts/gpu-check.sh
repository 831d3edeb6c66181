#!/usr/bin/env bash
# The GPU check in one go, for a machine with one or more NVIDIA GPUs (within 10 minutes on one GPU machine):
#   1. installs the LibTorch 2.x wheel (CUDA) and builds finfuse against it, with the tests and benchmarks;
#   2. runs the `cuda` tests (every *_CUDA test: device moves, the loader's pinned asynchronous copies, float16 mixed
#      precision with loss scaling, the CUDA allocator's figures; with two GPUs, a 2-rank NCCL job of `finfuse launch`
#      checked against one process), which must run, not skip;
#   3. runs the training and serving benchmark on the GPU, side by side with the same model in Python PyTorch (the
#      same wheel), and the predictor benchmark;
# and prints one summary. Output of each step goes to build/gpu-check/logs/.
#   scripts/gpu-check.sh [ROUNDS]      (benchmark rounds, default 3)
# FINFUSE_LIBTORCH chooses the LibTorch (scripts/libtorch.sh; default torch2, the wheel installed in its environment).
# On a GPU node without a package registry, point it at the node's own CUDA LibTorch (a wheel's site-packages/torch)
# and add FINFUSE_OFFLINE_DEPS=DIR with the packages scripts/offline-deps.sh downloaded elsewhere. Warnings do not stop
# this build (the node's compiler may be newer than the one CI holds to -Werror); the summary counts them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
rounds=${1:-3}
start=$(date +%s)
summary=()
note() { summary+=("$1"); echo "gpu-check: $1"; }

if ! command -v nvidia-smi > /dev/null || ! gpus=$(nvidia-smi -L 2> /dev/null | grep -c '^GPU'); then
  echo "gpu-check: no NVIDIA GPU here (nvidia-smi -L)" >&2
  exit 1
fi
note "GPUs: $gpus ($(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1))"

FINFUSE_LIBTORCH=${FINFUSE_LIBTORCH:-torch2} source scripts/libtorch.sh > /dev/null
build=build/gpu-check
logs=$build/logs
mkdir -p "$logs"
step_start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFINFUSE_BUILD_TESTS=ON -DFINFUSE_BUILD_EXAMPLES=OFF \
  -DFINFUSE_BUILD_BENCHMARKS=ON -DFINFUSE_INSTALL=OFF -DFINFUSE_WARNINGS_AS_ERRORS=OFF "${libtorch_args[@]}" \
  > "$logs/configure.log" 2>&1 || { tail -30 "$logs/configure.log"; exit 1; }
cmake --build "$build" --parallel "$(nproc)" --target finfuse_tests finfuse_cli finfuse_bench_train \
  finfuse_bench_predictor > "$logs/build.log" 2>&1 || { grep -B2 -A12 'error' "$logs/build.log" | head -80; exit 1; }
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
note "built against $(grep -o 'LibTorch [0-9.]* ([^)]*)' "$logs/configure.log" | head -1) with $("$cxx" --version \
  | head -1) in $(($(date +%s) - step_start)) s ($(grep -c 'warning:' "$logs/build.log" || true) compiler warnings)"

status=0
step_start=$(date +%s)
if (cd "$build" && ctest -L cuda --output-on-failure --timeout 600) > "$logs/cuda-tests.log" 2>&1; then
  if grep -q "Skipped\|\*\*\*Not Run" "$logs/cuda-tests.log"; then
    note "cuda tests: SKIPPED on a machine with $gpus GPU(s) -- a failure"
    status=1
  else
    ran=$("$build/tests/finfuse_tests" --gtest_filter='*_CUDA' --gtest_list_tests | grep -c '^  ')
    skipped=$(grep -o '\[  SKIPPED \] [0-9]* test' "$logs/cuda-tests.log" | grep -o '[0-9]*' || echo 0)
    note "cuda tests: passed ($ran tests, $skipped skipped: $(grep -o 'SKIPPED \] [A-Za-z_.]*' "$logs/cuda-tests.log" \
      | sed 's/SKIPPED \] //' | sort -u | tr '\n' ' ')) in $(($(date +%s) - step_start)) s"
  fi
else
  note "cuda tests: FAILED (see $logs/cuda-tests.log)"
  tail -40 "$logs/cuda-tests.log"
  status=1
fi

step_start=$(date +%s)
if bash bench/compare_training.sh "$build" "$rounds" 0 --device cuda > "$logs/bench-train.md" 2> "$logs/bench-train.err"; then
  note "training and serving benchmark on cuda:0 against Python PyTorch ($(($(date +%s) - step_start)) s):"
  summary+=("$(cat "$logs/bench-train.md")")
else
  note "training benchmark: FAILED (see $logs/bench-train.err)"
  tail -20 "$logs/bench-train.err"
  status=1
fi
if "$build/bench/finfuse_bench_predictor" > "$logs/bench-predictor.txt" 2>&1; then
  note "predictor benchmark (CPU serving of a bundle): $(tr '\n' ' ' < "$logs/bench-predictor.txt")"
fi

echo
echo "==================== finfuse GPU check: summary ===================="
printf '%s\n' "${summary[@]}"
echo "total: $(($(date +%s) - start)) s; logs in $logs"
exit $status
