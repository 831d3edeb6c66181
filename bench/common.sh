# Shared by the side-by-side comparison scripts (source it after setting $build): $here (bench/), $python (the Python
# whose torch is the LibTorch that $build was configured with: the torch wheel's environment for LibTorch 2.x,
# Debian's interpreter with python3-torch and pandas for Debian's 1.13; FINFUSE_BENCH_PYTHON overrides it), $tmp
# (removed on exit), and `medians FILE...`, which reads "name value" lines and prints "name median" per name, for the
# comparisons to tabulate.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
python=${FINFUSE_BENCH_PYTHON:-}
if [[ -z $python && -f ${build:-}/CMakeCache.txt ]]; then
  python=$(sed -n 's/^FINFUSE_PARITY_PYTHON:[A-Z]*=//p' "$build/CMakeCache.txt")
fi
if [[ -z $python ]]; then
  python=/usr/bin/python3
  [[ -x $python ]] || python=python3
fi
echo "bench: Python side: $("$python" -c 'import sys, torch; print(f"torch {torch.__version__}, {sys.executable}")')" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

medians() {
  "$python" - "$@" <<'PY'
import statistics, sys
values = {}
for path in sys.argv[1:]:
    for line in open(path):
        name, value = line.split()
        values.setdefault(name, []).append(float(value))
for name, v in values.items():
    print(name, statistics.median(v))
PY
}
