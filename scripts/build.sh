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
# On CI (CI=true, as scripts/test.sh runs there) compiling dominates the job, and nobody attaches a
# debugger: the release flavour is built without debug info (-O2; Catch2 reports failures with
# file:line on its own), the sanitizer flavours with line tables only (-g1), which is all their
# reports need for file:line in stack traces. (-O1 trips GCC 12's -Wmismatched-new-delete on Asio's
# awaitable frames; -O0 makes the ASan test run 6x slower and the 50-node cluster test time out.)
if [ "${CI:-}" = true ]; then
  case "$flavour" in
    release) flags+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2) ;;
    *)       flags+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1") ;;
  esac
fi

cmake -S . -B "$dir" -G Ninja "${flags[@]}" >&2
cmake --build "$dir" -j "$(nproc)" >&2
echo "$dir"
