#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, then builds and tests (scripts/build.sh, presets in CMakePresets.json):
# a GCC build of everything running every test, a clang build of everything with AddressSanitizer +
# UndefinedBehaviorSanitizer running every test too (so clang compiles every line once, without a
# build of its own), a ThreadSanitizer build of the threaded suites; then runs every fuzz target
# for FUZZ_SECONDS (default 20) each, one per core at a time. Fails on the first failure.
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

# ThreadSanitizer on the suites whose code runs on several threads: the Runtime's shards, the log
# sink, the event hooks' worker. Only those targets are built (the rest is single-threaded per
# io_context and covered by ASan above).
echo "== building (tsan: the threaded suites)" >&2
dir=$(scripts/build.sh tsan test-lib test-runtime test-hooks)
echo "== testing (tsan)" >&2
ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 -R '^(test-lib|test-runtime|test-hooks):'

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
