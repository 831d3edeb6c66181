#!/usr/bin/env bash
# Prints the root of the LibTorch 2.x that `scripts/install-deps.sh --torch2` installed (the torch wheel's
# site-packages/torch folder), for -DCMAKE_PREFIX_PATH; fails with a hint when it is not installed.
set -euo pipefail
venv=${FINFUSE_TORCH2_VENV:-$HOME/.local/share/finfuse/torch-venv}
if [[ ! -x $venv/bin/python ]] ||
   ! root=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null); then
  echo "torch2-root.sh: no LibTorch 2.x in $venv; run scripts/install-deps.sh --torch2" >&2
  exit 1
fi
echo "$root"
