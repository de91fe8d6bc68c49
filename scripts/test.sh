#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test twice: a normal build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# --ops: prometheus, chromium and curl for tests/ops (about 15 s of apt here, ~450 MB installed; the
# page test then installs playwright-core from npm into the build tree, ~3 s and 14 MB, once).
scripts/install-deps.sh --ops
jobs=$(nproc)

for flavour in release asan; do
  echo "== building ($flavour)" >&2
  dir=$(scripts/build.sh "$flavour")
  echo "== testing ($flavour)" >&2
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600
done
