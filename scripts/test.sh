#!/usr/bin/env bash
# Installs what is missing, then builds and tests three flavours (scripts/build.sh, presets in
# CMakePresets.json): a normal GCC build running every test, a clang build of everything running
# the fast unit tests and the package test, and an AddressSanitizer + UndefinedBehaviorSanitizer
# build running every test but the package one. Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)

# The clang flavour's tests: those that run in seconds (the cores, codecs, in-memory nodes,
# argument parsing), plus the installed-package test. The real-socket and process tests already
# ran on the GCC build.
clang_tests='^(test-lib|test-runtime|test-hyparview|test-plumtree|test-transport|test-node-mem|test-plot|test-hypar-cli):|^package$'

for flavour in release clang asan; do
  echo "== building ($flavour)" >&2
  dir=$(scripts/build.sh "$flavour")
  echo "== testing ($flavour)" >&2
  case "$flavour" in
    clang) ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 -R "$clang_tests" ;;
    asan)  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 -E '^package$' ;;
    *)     ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 ;;
  esac
done
