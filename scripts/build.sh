#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds one flavour of hypar with its preset in CMakePresets.json: `release`
# (default), `asan` (clang++ with ASan+UBSan), `tsan` or `clang` (clang++, everything).
# Usage: scripts/build.sh [release|asan|tsan|clang] [TARGET...]   -> prints the build directory on stdout.
# With TARGETs only those are built (and what they need); otherwise everything.
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=${1:-release}
shift $(( $# > 0 ? 1 : 0 ))
case "$flavour" in
  release) dir=build ;;
  asan)    dir=build-asan ;;
  tsan)    dir=build-tsan ;;
  clang)   dir=build-clang ;;
  *) echo "usage: $0 [release|asan|tsan|clang]" >&2; exit 2 ;;
esac
# On CI (CI=true, as scripts/test.sh runs there) compiling dominates the job, and nobody attaches a
# debugger: the ci-* presets build release and clang without debug info (-O2; Catch2 reports
# failures with file:line on its own), the sanitizer flavours with line tables only (-g1), which is
# all their reports need for file:line in stack traces. (-O1 trips GCC 12's -Wmismatched-new-delete
# on Asio's awaitable frames; -O0 makes the ASan test run 6x slower and the 50-node cluster test
# time out.)
preset=$flavour
if [ "${CI:-}" = true ]; then
  case "$flavour" in
    release) preset=ci ;;
    *)       preset=ci-$flavour ;;
  esac
fi
extra=()
if command -v ccache >/dev/null && [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ]; then
  extra+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

cmake --preset "$preset" "${extra[@]}" >&2
targets=()
if [ $# -gt 0 ]; then targets=(--target "$@"); fi
cmake --build "$dir" -j "$(nproc)" "${targets[@]}" >&2
echo "$dir"
