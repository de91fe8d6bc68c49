#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage: package_test.sh BUILD_DIR CONSUMER_DIR CXX VERSION [EXTRA_FLAGS]
# Installs BUILD_DIR into a temporary prefix, then builds CONSUMER_DIR against it twice, with
# find_package(hypar CONFIG) and with `CXX $(pkg-config --cflags --libs hypar)`, and runs both.
# Exits 77 (skip) when pkg-config is missing; everything is removed afterwards.
set -euo pipefail
build=$1 consumer=$2 cxx=$3 version=$4 extra=${5:-}

command -v pkg-config >/dev/null || { echo "package_test: SKIP: pkg-config not installed" >&2; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/hypar-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== cmake --install $build --prefix $prefix" >&2
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log" >&2; exit 1; }
config=$(find "$prefix" -name hyparConfig.cmake)
pc=$(find "$prefix" -name hypar.pc)
[ -n "$config" ] && [ -n "$pc" ] || { echo "package_test: hyparConfig.cmake or hypar.pc not installed" >&2; exit 1; }
[ -f "$prefix/include/hypar/version.hpp" ] || { echo "package_test: hypar/version.hpp not installed" >&2; exit 1; }

echo "== find_package(hypar) consumer" >&2
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$consumer" -B "$work/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" \
  "-DCMAKE_CXX_FLAGS=$extra" "-DCMAKE_EXE_LINKER_FLAGS=$extra" "${launcher[@]}" >"$work/configure.log" \
  || { cat "$work/configure.log" >&2; exit 1; }
cmake --build "$work/cmake-build" >&2
"$work/cmake-build/consumer" "$version"

echo "== pkg-config consumer" >&2
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs hypar)
echo "$cxx main.cpp $flags" >&2
# shellcheck disable=SC2086  # the flags are a command line to split
"$cxx" $extra -o "$work/consumer-pc" "$consumer/main.cpp" $flags
# (a shared hypar in a private prefix is found the way its users would point at it)
libdir=$(pkg-config --variable=libdir hypar)
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/consumer-pc" "$version"
echo "package_test: OK" >&2
