# Sourced by the build scripts: chooses the LibTorch to build against from FINFUSE_LIBTORCH and installs it.
#   FINFUSE_LIBTORCH=debian   Debian's libtorch-dev 1.13 (CPU), the default
#   FINFUSE_LIBTORCH=torch2   the current LibTorch 2.x from the torch wheel (CUDA-enabled), installed in a venv
#                             (scripts/install-deps.sh --torch2)
#   FINFUSE_LIBTORCH=<path>   any LibTorch root: the official zip's libtorch/, a wheel's site-packages/torch, ...
# Sets libtorch_args (CMake arguments) and libtorch_suffix (for build folder names: "" for Debian's).
# shellcheck shell=bash
finfuse_libtorch=${FINFUSE_LIBTORCH:-debian}
libtorch_args=()
libtorch_suffix=""
case "$finfuse_libtorch" in
  debian)
    bash "$root/scripts/install-deps.sh"
    ;;
  torch2)
    bash "$root/scripts/install-deps.sh" --torch2
    libtorch_args=(-DCMAKE_PREFIX_PATH="$(bash "$root/scripts/torch2-root.sh")")
    libtorch_suffix="-torch2"
    ;;
  *)
    if [[ ! -d $finfuse_libtorch/share/cmake/Torch ]]; then
      echo "finfuse: FINFUSE_LIBTORCH=$finfuse_libtorch is neither debian, torch2 nor a LibTorch root" \
           "(a folder with share/cmake/Torch)" >&2
      exit 2
    fi
    bash "$root/scripts/install-deps.sh"
    libtorch_args=(-DCMAKE_PREFIX_PATH="$(cd "$finfuse_libtorch" && pwd)")
    libtorch_suffix="-custom"
    ;;
esac
