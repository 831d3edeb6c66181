#!/usr/bin/env bash
# Downloads the Debian packages that finfuse's library, tests and benchmarks build against (every build dependency
# except the compiler, CMake and LibTorch) into a folder, for a machine that cannot reach a package registry, such as
# an air-gapped GPU node that already has a LibTorch. There, the build scripts take the folder as
# FINFUSE_OFFLINE_DEPS=DIR with FINFUSE_LIBTORCH=<that LibTorch's root> (scripts/libtorch.sh): they unpack the packages
# into build/offline-deps (no installation, no root) and point CMake at them.
#   scripts/offline-deps.sh DIR
set -euo pipefail
dir=${1:?usage: offline-deps.sh DIR}
packages=(
  libeigen3-dev libfmt-dev libfmt9 libspdlog-dev libspdlog1.10 nlohmann-json3-dev
  libhowardhinnant-date-dev libdate-tz3 libstb-dev libstb0 libssl-dev libssl3 libsimdjson-dev libsimdjson14
  libcli11-dev libgloo-dev libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian
)
mkdir -p "$dir"
cd "$dir"
apt-get download "${packages[@]}" 2> >(grep -v 'unsandboxed' >&2)
# Epochs put '%3a' into some file names; plain names travel more easily.
for deb in *%3a*; do
  [[ -e $deb ]] && mv "$deb" "${deb//%3a/_}"
done
echo "offline-deps: ${#packages[@]} packages in $(pwd) ($(du -sh . | cut -f1))"
