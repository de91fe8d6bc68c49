#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test twice: a normal build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)

for flavour in release asan; do
  echo "== building ($flavour)" >&2
  dir=$(scripts/build.sh "$flavour")
  echo "== testing ($flavour)" >&2
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600
done
