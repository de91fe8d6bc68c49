#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test twice: a normal build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build; then runs every fuzz target for
# FUZZ_SECONDS (default 20) each. Fails on the first failure.
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

# Fuzzing (scripts/fuzz.sh, docs/testing.md): a clang build of its own, each target for a short run
# from its committed seeds. A crash or a violated property fails CI; exit 77 means clang or
# libFuzzer is missing, which is reported as a SKIP, not a pass.
echo "== fuzzing (${FUZZ_SECONDS:-20} s per target)" >&2
fuzz_status=0
scripts/fuzz.sh "${FUZZ_SECONDS:-20}" || fuzz_status=$?
if [ "$fuzz_status" -eq 77 ]; then
  echo "== fuzzing: SKIP (clang or libFuzzer missing)" >&2
elif [ "$fuzz_status" -ne 0 ]; then
  exit "$fuzz_status"
fi
