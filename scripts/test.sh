#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, then builds and tests (scripts/build.sh, presets in CMakePresets.json):
# a GCC build of everything, a clang build of everything with AddressSanitizer +
# UndefinedBehaviorSanitizer (so clang compiles every line once, without a build of its own), each
# running the tests (every test in one or both lanes, below), a ThreadSanitizer build of the
# threaded suites; then runs every fuzz target
# for FUZZ_SECONDS (default 20) each, one per core at a time. Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# --ops: prometheus, chromium and curl for tests/ops (about 15 s of apt here, ~450 MB installed; the
# page test then installs playwright-core from npm into the build tree, ~3 s and 14 MB, once).
scripts/install-deps.sh --ops
jobs=$(nproc)

# Every test runs in at least one of the two lanes; three groups run in one lane only, to keep CI
# under 30 minutes on 2 cores (docs/testing.md, "What CI runs"):
# - the chaos tests (label chaos: real processes under real faults, ~4 minutes mostly spent
#   waiting out their scenarios) run under the sanitizers, where a fault path's memory error shows;
# - the packaging test (a cmake install and a consumer build: compilers, not memory), the
#   simulator's experiments at 1,000 nodes and hypar-sim's failures and plumtree commands run over
#   hundreds of nodes (deterministic, 4x slower under ASan, 4 minutes there; the simulator's smaller
#   cases, hypar-sim's other CLI tests and the protocol cores' fuzzers run under the sanitizers) run
#   in the release lane.
release_only='^package$|^test-sim:.*(1,000 nodes|999 others)|^hypar-sim-(failures|plumtree)$'
side_builds=
for flavour in release asan; do
  echo "== building ($flavour)" >&2
  dir=$(scripts/build.sh "$flavour")
  if [ "$flavour" = release ]; then
    # The release lane's tests leave the cores idle about half the time (most wait on their
    # scenarios), so the ThreadSanitizer and fuzzing builds start now, beside them, at the lowest
    # priority. Only a head start: the steps below build again (nothing left to do, or the rest)
    # and report any error; this log is not read.
    # setsid gives them a process group to stop, and a scheduler autogroup of their own where the
    # kernel groups by session (sched_autogroup_enabled): that group gets nice 19 too, or it
    # would get half the CPU whatever the nice of its processes.
    echo "== building (tsan, fuzz) in the background, nice 19" >&2
    setsid nice -n 19 bash -c '{ [ ! -w /proc/self/autogroup ] || echo 19 >/proc/self/autogroup; } 2>/dev/null
      scripts/build.sh tsan test-lib test-runtime test-hooks && scripts/fuzz.sh --build-only' >/dev/null 2>&1 &
    side_builds=$!
    trap 'kill -- "-$side_builds" 2>/dev/null || true' EXIT  # a failed step stops them too
  fi
  echo "== testing ($flavour)" >&2
  case "$flavour" in
    release) select=(-LE chaos) ;;
    asan) select=(-E "$release_only") ;;
  esac
  # One test per core: at one more, the process tests with time bounds failed now and then
  # (docs/testing.md, "What CI runs").
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 "${select[@]}"
done

wait "$side_builds" || true  # the builds below are the ones that count

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
