#!/usr/bin/env bash
# Trains and serves the reference multimodal model (bench/reference_model.json) from finfuse and from Python PyTorch
# (bench/python/train_bench.py, the same model and computation) alternately on this machine, and prints a Markdown
# table of the medians over the rounds with the ratio finfuse / Python (for samples/s above 1 is finfuse faster, for
# latencies below 1).
#   bench/compare_training.sh BUILD_DIR [ROUNDS] [THREADS] [finfuse_bench_train options, e.g. --parallel-encoders]
# A --device option (cuda, cuda:N) goes to both sides.
set -euo pipefail
build=${1:?usage: compare_training.sh BUILD_DIR [ROUNDS] [THREADS] [OPTIONS...]}
rounds=${2:-3}
threads=${3:-0}
shift $(($# < 3 ? $# : 3))
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
python_options=()
options=("$@")
for ((i = 0; i + 1 < ${#options[@]}; ++i)); do
  if [[ ${options[i]} == --device ]]; then
    python_options=(--device "${options[i + 1]}")
  fi
done
for ((r = 0; r < rounds; ++r)); do
  "$build/bench/finfuse_bench_train" --steps 40 --threads "$threads" "$@" >> "$tmp/cpp"
  "$python" "$here/python/train_bench.py" --steps 40 --threads "$threads" ${python_options[@]+"${python_options[@]}"} \
    >> "$tmp/python"
done
medians "$tmp/cpp" > "$tmp/cpp.median"
medians "$tmp/python" > "$tmp/python.median"
"$python" - "$tmp/cpp.median" "$tmp/python.median" <<'PY'
import sys
cpp, py = ({name: float(value) for name, value in map(str.split, open(path))} for path in sys.argv[1:])
if cpp["parameters"] != py["parameters"]:
    sys.exit(f"the two models differ: {cpp['parameters']:.0f} and {py['parameters']:.0f} parameters")
print(f"{cpp['parameters']:.0f} parameters, {cpp['threads']:.0f} intra-op thread(s)\n")
print("| measurement | finfuse | Python PyTorch | finfuse / Python |")
print("| --- | ---: | ---: | ---: |")
for name in ("train_b8_samples_per_s", "train_b64_samples_per_s", "infer_b1_p50_ms", "infer_b1_p99_ms",
             "infer_b256_samples_per_s"):
    print(f"| {name} | {cpp[name]:.1f} | {py[name]:.1f} | {cpp[name] / py[name]:.2f} |" if "samples" in name else
          f"| {name} | {cpp[name]:.3f} | {py[name]:.3f} | {cpp[name] / py[name]:.2f} |")
flops = 3 * cpp["forward_mflop_per_sample"] * 1e6  # a training step is about three forward passes
print(f"\nTraining FLOPs per sample: {flops / 1e6:.1f} M (forward {cpp['forward_mflop_per_sample']:.2f} M, counted by hand); "
      f"float32 1024 x 1024 matmul on this machine: {cpp['matmul_peak_gflops']:.0f} GFLOP/s.")
for b in (8, 64):
    key = f"train_b{b}_samples_per_s"
    print(f"- batch {b}: finfuse {flops * cpp[key] / 1e9:.1f} GFLOP/s "
          f"({100 * flops * cpp[key] / 1e9 / cpp['matmul_peak_gflops']:.0f}% of that), "
          f"Python {flops * py[key] / 1e9:.1f} GFLOP/s")
PY
