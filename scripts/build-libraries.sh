# The Debian packages of the libraries finfuse's library, CLI, tests and benchmarks compile against (besides the
# compiler, CMake and LibTorch). Sourced by install-deps.sh, which installs them, and offline-deps.sh, which downloads
# them (with their shared libraries) for a machine without a package registry.
# shellcheck shell=bash
finfuse_build_libraries=(
  libgloo-dev               # headers of torch.distributed's Gloo backend
  libeigen3-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libhowardhinnant-date-dev # calendar arithmetic and time zones
  libstb-dev                # image decoding, resizing and PNG writing
  libssl-dev                # SHA-256 digests (OpenSSL libcrypto)
  libsimdjson-dev           # JSON Lines text files at gigabytes per second
  libicu-dev                # Unicode properties and normalisation for BERT's tokenizer
  libcli11-dev              # command-line parsing of the finfuse tool
  libgtest-dev libgmock-dev # the tests (GoogleTest and its matchers)
  libbenchmark-dev          # the benchmarks
)
