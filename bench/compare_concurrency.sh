#!/usr/bin/env bash
# Two trainings sharing the machine's cores: the reference model's training and serving benchmark run alone, then two
# copies at once, for finfuse (finfuse_bench_train) and for the same model in Python PyTorch (bench/python/
# train_bench.py), each side with its defaults. Prints a Markdown table of medians over the rounds: solo figures, the
# pair's figures (the median of the two runs) and the share of solo throughput each run of the pair kept. Each timed
# phase (training at batch 8 and 64, inference at batch 1 and 256) runs for SECONDS (default 6) on both sides, so that
# the two runs of a pair stay in the same phase however slow contention makes them.
#   bench/compare_concurrency.sh BUILD_DIR [ROUNDS] [SECONDS] [-- finfuse_bench_train options, e.g. --fixed-threads]
#   Environment variables set for the call (OMP_WAIT_POLICY, GOMP_SPINCOUNT, ...) apply to both sides.
set -euo pipefail
build=${1:?usage: compare_concurrency.sh BUILD_DIR [ROUNDS] [SECONDS] [-- OPTIONS...]}
shift
rounds=3
seconds=6
[[ $# -gt 0 && $1 != -- ]] && rounds=$1 && shift
[[ $# -gt 0 && $1 != -- ]] && seconds=$1 && shift
[[ ${1:-} == -- ]] && shift
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cpp=("$build/bench/finfuse_bench_train" --seconds "$seconds" "$@")
py=("$python" "$here/python/train_bench.py" --seconds "$seconds")
for ((r = 0; r < rounds; ++r)); do
  for side in cpp py; do
    declare -n run=$side
    "${run[@]}" >> "$tmp/$side.solo"
    "${run[@]}" > "$tmp/$side.a" &
    a=$!
    "${run[@]}" > "$tmp/$side.b" &
    b=$!
    wait "$a" "$b"
    cat "$tmp/$side.a" "$tmp/$side.b" >> "$tmp/$side.pair"
  done
done
for f in cpp.solo cpp.pair py.solo py.pair; do
  medians "$tmp/$f" > "$tmp/$f.median"
done
"$python" - "$tmp" <<'PY'
import os, sys
tmp = sys.argv[1]
read = lambda name: {k: float(v) for k, v in map(str.split, open(os.path.join(tmp, name + ".median")))}
cs, cp, ps, pp = read("cpp.solo"), read("cpp.pair"), read("py.solo"), read("py.pair")
print(f"{os.cpu_count()} cores; intra-op threads per finfuse run: {cs['threads']:.0f} at the start, "
      f"{cp.get('threads_at_end', cp['threads']):.1f} at the end of the pair's runs (median); {ps['threads']:.0f} per Python run\n")
print("| measurement | finfuse alone | finfuse, two at once | kept | Python alone | Python, two at once | kept |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, fmt in (("train_b8_samples_per_s", "{:.1f}"), ("train_b64_samples_per_s", "{:.1f}"),
                  ("infer_b1_p50_ms", "{:.3f}"), ("infer_b256_samples_per_s", "{:.1f}")):
    kept = (lambda solo, pair: pair / solo) if "samples" in name else (lambda solo, pair: solo / pair)
    print(f"| {name} | {fmt.format(cs[name])} | {fmt.format(cp[name])} | {kept(cs[name], cp[name]):.0%} | "
          f"{fmt.format(ps[name])} | {fmt.format(pp[name])} | {kept(ps[name], pp[name]):.0%} |")
PY
