#!/usr/bin/env bash
# Installs the current LibTorch 2.x as the Python package index ships it: the `torch` wheel (CUDA-enabled; its
# site-packages/torch folder is a complete C++ distribution with share/cmake/Torch) and the matching torchvision (for
# the parity tests), with Hugging Face's transformers and safetensors (the BERT parity tests' reference model), in a
# virtual environment of Debian's Python. Idempotent: an environment that already has these
# versions is left as it is. Called by `scripts/install-deps.sh --torch2`.
#
#   FINFUSE_TORCH2_VENV      where the environment goes (default ~/.local/share/finfuse/torch-venv)
#   FINFUSE_TORCH2_VERSION   the torch version (default 2.15.0); FINFUSE_TORCHVISION_VERSION likewise (0.29.2)
set -euo pipefail
venv=${FINFUSE_TORCH2_VENV:-$HOME/.local/share/finfuse/torch-venv}
torch_version=${FINFUSE_TORCH2_VERSION:-2.15.0}
torchvision_version=${FINFUSE_TORCHVISION_VERSION:-0.29.2}
transformers_version=5.24.0
safetensors_version=0.8.0
python=/usr/bin/python3
if [[ ! -x $python ]]; then
  python=$(command -v python3)
fi

installed() {
  "$venv/bin/python" - "$torch_version" "$torchvision_version" "$transformers_version" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
want_torch, want_vision, want_transformers = sys.argv[1], sys.argv[2], sys.argv[3]
ok = version("torch").split("+")[0] == want_torch and version("torchvision").split("+")[0] == want_vision
ok = ok and version("transformers") == want_transformers
version("numpy"), version("pandas")  # raise when missing
sys.exit(0 if ok else 1)
PY
}

if [[ -x $venv/bin/python ]] && installed; then
  echo "finfuse: LibTorch $torch_version (torch wheel) is installed in $venv"
  exit 0
fi
start=$(date +%s)
echo "finfuse: installing torch $torch_version and torchvision $torchvision_version into $venv"
mkdir -p "$(dirname "$venv")"
if ! "$venv/bin/python" -c 'import sys' 2> /dev/null; then
  "$python" -m venv --clear "$venv"  # missing or unusable: made anew
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "torch==$torch_version" "torchvision==$torchvision_version" numpy pandas \
  "transformers==$transformers_version" "safetensors==$safetensors_version"
root=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
echo "finfuse: LibTorch $torch_version installed in $(($(date +%s) - start)) s ($(du -sh "$venv" | cut -f1)); its C++" \
     "distribution: $root"
