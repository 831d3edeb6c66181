# Sourced by the build scripts: chooses the LibTorch to build against from FINFUSE_LIBTORCH and installs it.
#   FINFUSE_LIBTORCH=debian   Debian's libtorch-dev 1.13 (CPU), the default
#   FINFUSE_LIBTORCH=torch2   the current LibTorch 2.x from the torch wheel (CUDA-enabled), installed in a venv
#                             (scripts/install-deps.sh --torch2)
#   FINFUSE_LIBTORCH=<path>   any LibTorch root: the official zip's libtorch/, a wheel's site-packages/torch, ...
# FINFUSE_OFFLINE_DEPS=DIR   on a machine without a package registry: installs nothing, and builds against the Debian
#                            packages that scripts/offline-deps.sh downloaded into DIR, unpacked into build/offline-deps
#                            (with FINFUSE_LIBTORCH=<path> to the machine's own LibTorch).
# FINFUSE_WITH_PARQUET=AUTO|ON|OFF   Parquet inputs through Apache Arrow C++ (scripts/install-arrow.sh): AUTO builds
#                                   them when Arrow is installed, ON requires it, OFF installs and builds without.
# Sets libtorch_args (CMake arguments) and libtorch_suffix (for build folder names: "" for Debian's).
# shellcheck shell=bash
finfuse_libtorch=${FINFUSE_LIBTORCH:-debian}
libtorch_args=()
libtorch_suffix=""
finfuse_install_deps() {
  if [[ -z ${FINFUSE_OFFLINE_DEPS:-} ]]; then
    bash "$root/scripts/install-deps.sh" "$@"
  fi
}
case "$finfuse_libtorch" in
  debian)
    finfuse_install_deps
    ;;
  torch2)
    finfuse_install_deps --torch2
    libtorch_args=(-DCMAKE_PREFIX_PATH="$(bash "$root/scripts/torch2-root.sh")")
    libtorch_suffix="-torch2"
    ;;
  *)
    if [[ ! -d $finfuse_libtorch/share/cmake/Torch ]]; then
      echo "finfuse: FINFUSE_LIBTORCH=$finfuse_libtorch is neither debian, torch2 nor a LibTorch root" \
           "(a folder with share/cmake/Torch)" >&2
      exit 2
    fi
    finfuse_install_deps
    libtorch_args=(-DCMAKE_PREFIX_PATH="$(cd "$finfuse_libtorch" && pwd)")
    libtorch_suffix="-custom"
    ;;
esac

if [[ -n ${FINFUSE_OFFLINE_DEPS:-} ]]; then
  finfuse_offline=$root/build/offline-deps
  if ! compgen -G "$FINFUSE_OFFLINE_DEPS/*.deb" > /dev/null; then
    echo "finfuse: FINFUSE_OFFLINE_DEPS=$FINFUSE_OFFLINE_DEPS holds no .deb packages (scripts/offline-deps.sh DIR)" >&2
    exit 2
  fi
  # Unpacked anew when the set of packages changes (another download, other versions), never mixed with an old one.
  finfuse_debs=$(cd "$FINFUSE_OFFLINE_DEPS" && ls -- *.deb)
  if [[ ! -f $finfuse_offline/.unpacked || $(cat "$finfuse_offline/.unpacked") != "$finfuse_debs" ]]; then
    rm -rf "$finfuse_offline"
    mkdir -p "$finfuse_offline"
    for deb in "$FINFUSE_OFFLINE_DEPS"/*.deb; do
      dpkg-deb -x "$deb" "$finfuse_offline"
    done
    echo "$finfuse_debs" > "$finfuse_offline/.unpacked"
  fi
  # CMake packages (fmt, spdlog, date, simdjson, GTest, ...) from the prefix; header-only ones (stb, gloo) through CPATH.
  finfuse_prefix=$finfuse_offline/usr
  if ((${#libtorch_args[@]} > 0)); then
    libtorch_args=("${libtorch_args[0]};$finfuse_prefix")
  else
    libtorch_args=(-DCMAKE_PREFIX_PATH="$finfuse_prefix")
  fi
  libtorch_args+=(-DOPENSSL_ROOT_DIR="$finfuse_prefix")
  export CPATH=$finfuse_prefix/include${CPATH:+:$CPATH}
  echo "finfuse: building against the packages of $FINFUSE_OFFLINE_DEPS, unpacked in $finfuse_offline"
fi

# Apache Arrow C++ for Parquet inputs, where scripts/install-arrow.sh installed it (FINFUSE_WITH_PARQUET=OFF: none).
if [[ ${FINFUSE_WITH_PARQUET:-AUTO} != OFF ]] && finfuse_arrow_root=$(bash "$root/scripts/arrow-root.sh"); then
  libtorch_args+=(-DFINFUSE_ARROW_ROOT="$finfuse_arrow_root")
fi
libtorch_args+=(-DFINFUSE_WITH_PARQUET="${FINFUSE_WITH_PARQUET:-AUTO}")
