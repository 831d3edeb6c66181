#!/usr/bin/env bash
# Installs the Python packages that the tests take reference outputs from and that Debian does not package: Hugging
# Face's tokenizers (the token ids finfuse's WordPiece tokenizer must reproduce) and TensorBoard (its event reader
# checks the event files finfuse writes), in a virtual environment of Debian's Python. Tests only: neither the library nor the CLI uses it. Idempotent: an environment that already has these
# versions is left as it is. Called by scripts/test.sh.
#
#   FINFUSE_REFERENCE_VENV   where the environment goes (default ~/.local/share/finfuse/reference-venv)
set -euo pipefail
venv=${FINFUSE_REFERENCE_VENV:-$HOME/.local/share/finfuse/reference-venv}
tokenizers_version=0.23.3
tensorboard_version=2.21.0
python=/usr/bin/python3
if [[ ! -x $python ]]; then
  python=$(command -v python3)
fi

installed() {
  "$venv/bin/python" -c "import sys, tokenizers, tensorboard
sys.exit(tokenizers.__version__ != '$tokenizers_version' or tensorboard.__version__ != '$tensorboard_version')" 2>/dev/null
}

if [[ -x $venv/bin/python ]] && installed; then
  echo "finfuse: reference Python packages (tokenizers $tokenizers_version, tensorboard $tensorboard_version) are installed in $venv"
  exit 0
fi
start=$(date +%s)
echo "finfuse: installing tokenizers $tokenizers_version and tensorboard $tensorboard_version into $venv (test references)"
mkdir -p "$(dirname "$venv")"
if ! "$venv/bin/python" -c 'import sys' 2> /dev/null; then
  "$python" -m venv --clear "$venv"  # missing or unusable: made anew
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "tokenizers==$tokenizers_version" \
  "tensorboard==$tensorboard_version"
echo "finfuse: reference Python packages installed in $(($(date +%s) - start)) s ($(du -sh "$venv" | cut -f1))"
