#!/usr/bin/env bash
# Downloads the Debian packages that finfuse's library, tests and benchmarks build against (every build dependency
# except the compiler, CMake and LibTorch) into a folder, for a machine that cannot reach a package registry, such as
# an air-gapped GPU node that already has a LibTorch. There, the build scripts take the folder as
# FINFUSE_OFFLINE_DEPS=DIR with FINFUSE_LIBTORCH=<that LibTorch's root> (scripts/libtorch.sh): they unpack the packages
# into build/offline-deps (no installation, no root) and point CMake at them.
#   scripts/offline-deps.sh DIR
set -euo pipefail
dir=${1:?usage: offline-deps.sh DIR}
# shellcheck source=scripts/build-libraries.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-libraries.sh"
# The libraries install-deps.sh installs, and the shared libraries they depend on directly (libfmt9 for libfmt-dev);
# Gloo's is left out: finfuse reads its headers only, and LibTorch carries its own Gloo.
packages=("${finfuse_build_libraries[@]}")
for package in "${finfuse_build_libraries[@]}"; do
  while read -r dependency; do
    if [[ $dependency == lib* && $dependency != *-dev && $dependency != libgloo* ]]; then
      packages+=("$dependency")
    fi
  done < <(apt-cache depends "$package" | awk '$1 == "Depends:" {print $2}')
done
mkdir -p "$dir"
cd "$dir"
apt-get download "${packages[@]}" 2> >(grep -v 'unsandboxed' >&2)
# Epochs put '%3a' into some file names; plain names travel more easily.
for deb in *%3a*; do
  [[ -e $deb ]] && mv "$deb" "${deb//%3a/_}"
done
echo "offline-deps: ${#packages[@]} packages in $(pwd) ($(du -sh . | cut -f1))"
