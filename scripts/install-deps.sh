#!/usr/bin/env bash
# Installs every Debian package finfuse needs to build, test and run its examples. Idempotent: when everything
# is present it only checks and returns. Run as root (or with sudo available).
#
#   scripts/install-deps.sh [--hardening] [--torch2]
#
# --hardening   clang and its sanitizer and libFuzzer runtimes, for scripts/fuzz.sh and scripts/sanitize.sh
# --torch2      also the current LibTorch 2.x (CUDA-enabled): the `torch` wheel from the Python package index, in a
#               virtual environment at $FINFUSE_TORCH2_VENV (default ~/.local/share/finfuse/torch-venv), with the
#               matching torchvision for the parity tests and pandas for the benchmarks. Its C++ distribution is the venv's site-packages/torch
#               folder, which scripts/torch2-root.sh prints (pass it to CMake as -DCMAKE_PREFIX_PATH).
# Apache Arrow C++ with Parquet (the pyarrow wheel, scripts/install-arrow.sh) is installed too unless
# FINFUSE_WITH_PARQUET=OFF.
set -euo pipefail

hardening=false
torch2=false
for arg in "$@"; do
  case "$arg" in
    --hardening) hardening=true ;;
    --torch2) torch2=true ;;
    *) echo "install-deps.sh: unknown option $arg (expected --hardening or --torch2)" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/build-libraries.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-libraries.sh"
packages=(
  g++ cmake ninja-build ccache pkg-config
  libtorch-dev        # LibTorch 1.13 (C++ API, CPU)
  libopenblas0-openmp # fast BLAS for LibTorch; the OpenMP variant respects torch::set_num_threads
  tzdata              # the time-zone database that market sessions are computed with
  "${finfuse_build_libraries[@]}"  # the libraries the build compiles against (scripts/build-libraries.sh)
  python3-torch python3-torchvision # reference outputs for the parity tests (tests only)
  python3-sklearn                  # reference values for the metric tests (tests only)
  python3-pandas                   # the pandas side of the data-path benchmark (bench/ only)
  python3-venv                     # environments for the torch wheel and the tests' reference packages
  chromium                         # renders the HTML reports in a test (tests only)
)

# scripts/fuzz.sh and scripts/sanitize.sh (not the default build or tests) need clang and its sanitizer and libFuzzer
# runtimes: `install-deps.sh --hardening` adds them.
if $hardening; then
  packages+=(clang libclang-rt-14-dev)
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "finfuse: installing ${missing[*]}"
  if ((${#sudo[@]} > 0)) && ! command -v sudo >/dev/null; then
    echo "finfuse: run as root or install sudo" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  ${sudo[@]+"${sudo[@]}"} apt-get update -qq
  ${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "finfuse: all ${#packages[@]} required packages are installed"
fi

# LibTorch calls the system BLAS (libblas.so.3). Make sure it resolves to OpenBLAS's OpenMP build rather than the
# reference BLAS (about 15x slower) or OpenBLAS's pthread build (which oversubscribes next to ATen's OpenMP pool).
multiarch=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH)
for lib in libblas.so.3 liblapack.so.3; do
  name="$lib-$multiarch"
  wanted="/usr/lib/$multiarch/openblas-openmp/$lib"
  current=$(update-alternatives --query "$name" 2>/dev/null | awk '/^Value:/ {print $2}')
  if [[ -e $wanted && $current != "$wanted" ]]; then
    echo "finfuse: selecting $wanted for $lib (was ${current:-unset})"
    ${sudo[@]+"${sudo[@]}"} update-alternatives --set "$name" "$wanted" >/dev/null
  fi
done

# Apache Arrow C++ with Parquet (Parquet inputs; Debian 12 packages no Arrow): the pyarrow wheel, in a virtual
# environment. The build finds it through scripts/libtorch.sh; without it finfuse builds and reads CSV only.
if [[ ${FINFUSE_WITH_PARQUET:-AUTO} != OFF ]]; then
  bash "$(dirname "${BASH_SOURCE[0]}")/install-arrow.sh"
fi

if $torch2; then
  bash "$(dirname "${BASH_SOURCE[0]}")/install-torch2.sh"
fi
