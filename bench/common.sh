# Shared by the side-by-side comparison scripts (source it): $here (bench/), $python (Debian's interpreter, which has
# python3-torch and pandas), $tmp (removed on exit), and `medians FILE...`, which reads "name value" lines and prints
# "name median" per name, for the comparisons to tabulate.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
python=/usr/bin/python3
[[ -x $python ]] || python=python3
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
