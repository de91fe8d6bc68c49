#!/usr/bin/env bash
# Configures and builds one flavour of hypar: `release` (default) or `asan` (ASan+UBSan) or `tsan`.
# Usage: scripts/build.sh [release|asan|tsan]   -> prints the build directory on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=${1:-release}
case "$flavour" in
  release) dir=build;      flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHYPAR_ASAN=ON -DHYPAR_BUILD_BENCHMARKS=OFF) ;;
  tsan)    dir=build-tsan; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHYPAR_TSAN=ON -DHYPAR_BUILD_BENCHMARKS=OFF) ;;
  *) echo "usage: $0 [release|asan|tsan]" >&2; exit 2 ;;
esac

cmake -S . -B "$dir" -G Ninja "${flags[@]}" >&2
cmake --build "$dir" -j "$(nproc)" >&2
echo "$dir"
