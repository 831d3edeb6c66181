#!/usr/bin/env bash
# Prints the Apache Arrow C++ distribution that scripts/install-arrow.sh installed (the pyarrow package's folder, with
# include/ and the shared libraries), or nothing and status 1 when it is not installed.
set -euo pipefail
venv=${FINFUSE_ARROW_VENV:-$HOME/.local/share/finfuse/arrow-venv}
[[ -x $venv/bin/python ]] || exit 1
"$venv/bin/python" -c 'import os, pyarrow; print(os.path.dirname(pyarrow.__file__))' 2>/dev/null
