#!/usr/bin/env bash
# Real data that the project's setup can fetch by itself: the S&P 500 daily series of the npm package vega-datasets
# (BSD-3-Clause), installed under build/data/node_modules/vega-datasets/data/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target="$root/build/data"
if [[ -f "$target/node_modules/vega-datasets/data/sp500-2000.csv" ]]; then
  exit 0
fi
if ! command -v npm > /dev/null; then
  echo "npm is not installed (Debian: apt-get install npm; scripts/install-deps.sh does it)" >&2
  exit 1
fi
mkdir -p "$target"
npm install --no-audit --no-fund --no-save --prefix "$target" vega-datasets@3.2.1 > /dev/null
echo "fetched vega-datasets 3.2.1 into $target/node_modules/vega-datasets"
