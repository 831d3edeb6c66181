#!/usr/bin/env bash
# Installs Apache Arrow C++ with Parquet (finfuse reads Parquet price panels, numeric tables and texts through it) as
# the Python package index ships it: the `pyarrow` wheel holds Arrow's and Parquet's C++ headers and shared
# libraries, a complete C++ distribution that the build finds without Python (cmake/FindFinfuseArrow.cmake). pandas
# comes along for the tests, which write their Parquet files with it. In a virtual environment of Debian's Python
# (Debian 12 packages no Arrow). Idempotent. Called by scripts/install-deps.sh; prints nothing else than its progress.
# scripts/arrow-root.sh prints the folder to give CMake (-DFINFUSE_ARROW_ROOT=...).
#
#   FINFUSE_ARROW_VENV      where the environment goes (default ~/.local/share/finfuse/arrow-venv)
#   FINFUSE_ARROW_VERSION   the pyarrow version (default 22.0.0, the newest whose C++ headers build as C++17: Arrow 23
#                           and later require C++20)
set -euo pipefail
venv=${FINFUSE_ARROW_VENV:-$HOME/.local/share/finfuse/arrow-venv}
arrow_version=${FINFUSE_ARROW_VERSION:-22.0.0}
pandas_version=2.3.3
python=/usr/bin/python3
if [[ ! -x $python ]]; then
  python=$(command -v python3)
fi

installed() {
  "$venv/bin/python" -c "import sys, pyarrow, pandas
sys.exit(pyarrow.__version__ != '$arrow_version' or pandas.__version__ != '$pandas_version')" 2>/dev/null
}

if [[ -x $venv/bin/python ]] && installed; then
  echo "finfuse: Apache Arrow $arrow_version (pyarrow wheel) is installed in $venv"
  exit 0
fi
start=$(date +%s)
echo "finfuse: installing Apache Arrow $arrow_version (pyarrow) and pandas $pandas_version into $venv"
mkdir -p "$(dirname "$venv")"
if ! "$venv/bin/python" -c 'import sys' 2> /dev/null; then
  "$python" -m venv --clear "$venv"  # missing or unusable: made anew
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pyarrow==$arrow_version" \
  "pandas==$pandas_version"
echo "finfuse: Apache Arrow $arrow_version installed in $(($(date +%s) - start)) s ($(du -sh "$venv" | cut -f1)); its C++" \
     "distribution: $(bash "$(dirname "${BASH_SOURCE[0]}")/arrow-root.sh")"
