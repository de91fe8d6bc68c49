#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets (clang, ASan+UBSan, build-fuzz/) and runs each for SECONDS, one
# target per core at a time (FUZZ_JOBS overrides).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (default 30 s, every target)
#        scripts/fuzz.sh --build-only                 builds the targets, runs none
#   scripts/fuzz.sh 20                 what CI runs
#   scripts/fuzz.sh 3600 hyparview_core   a long run of one target
# Each target starts from its committed seeds (tests/fuzz/corpus/<target>/) and keeps what it
# finds in build-fuzz/corpus/<target>/ for the next run. A crash, leak, sanitizer report or
# violated property fails the run; the input is saved as build-fuzz/artifacts/<target>-crash-*
# (replay it with build-fuzz/tests/fuzz/hypar_fuzz_<target> FILE). Extra libFuzzer flags can be
# passed in FUZZ_FLAGS, e.g. FUZZ_FLAGS=-runs=10000000, and FUZZ_BUILD_DIR picks another build
# directory (a long run in one, short runs in build-fuzz meanwhile). Exits 77 (SKIP) when clang or libFuzzer
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
build_only=0
if [ "${1:-}" = --build-only ]; then build_only=1; shift; fi
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
if [ $# -gt 0 ] && [[ "$1" == -* ]]; then
  echo "usage: $0 [SECONDS] [TARGET...]" >&2
  exit 2
fi

if ! command -v clang++ >/dev/null; then
  echo "fuzz: SKIP: clang++ not found (install clang and libclang-rt-dev: scripts/install-deps.sh)" >&2
  exit 77
fi
# libFuzzer ships separately from the compiler on Debian (libclang-rt-*-dev).
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
    clang++ -fsanitize=fuzzer -x c++ - -o /dev/null 2>/dev/null; then
  echo "fuzz: SKIP: clang++ cannot link -fsanitize=fuzzer (install libclang-rt-dev)" >&2
  exit 77
fi

dir=${FUZZ_BUILD_DIR:-build-fuzz}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# -O1 as the libFuzzer documentation advises (faster builds, sanitizers still precise), with line
# tables for the stack traces.
cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DHYPAR_FUZZ=ON -DHYPAR_BUILD_TESTS=OFF \
  -DHYPAR_BUILD_BENCHMARKS=OFF "${launcher[@]}" >&2
cmake --build "$dir" -j "$(nproc)" --target hypar_fuzz_all >&2
[ "$build_only" = 0 ] || exit 0

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < "$dir/tests/fuzz/fuzz_targets.txt"
fi

mkdir -p "$dir/artifacts"
for target in "${targets[@]}"; do
  if [ -n "$target" ] && [ ! -x "$dir/tests/fuzz/hypar_fuzz_$target" ]; then
    echo "fuzz: unknown target '$target' (targets: $(tr '\n' ' ' < "$dir/tests/fuzz/fuzz_targets.txt"))" >&2
    exit 2
  fi
done

# fuzz_one TARGET: one libFuzzer run; its log in $dir/fuzz-TARGET.log, its verdict in the exit code.
fuzz_one() {
  local target=$1 work=$dir/corpus/$1 seeds=()
  mkdir -p "$work"
  # a new target may have no committed seeds yet
  if [ -d "tests/fuzz/corpus/$target" ]; then seeds=("tests/fuzz/corpus/$target"); fi
  # -timeout: an input taking over 10 s is a hang; -rss_limit_mb: memory growth is a failure too.
  # shellcheck disable=SC2086
  "$dir/tests/fuzz/hypar_fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$target-" ${FUZZ_FLAGS:-} "$work" "${seeds[@]}" \
    > "$dir/fuzz-$target.log" 2>&1
}

# The targets run FUZZ_JOBS at a time (default: one per core); each is single-threaded.
jobs=${FUZZ_JOBS:-$(nproc)}
ran=()
for target in "${targets[@]}"; do
  [ -n "$target" ] || continue
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "== fuzzing $target for ${seconds}s" >&2
  rm -f "$dir/fuzz-$target.rc"
  { rc=0; fuzz_one "$target" || rc=$?; echo "$rc" > "$dir/fuzz-$target.rc"; } &
  ran+=("$target")
done
wait
failed=()
for target in "${ran[@]}"; do
  if [ "$(cat "$dir/fuzz-$target.rc" 2>/dev/null)" = 0 ]; then
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
      "$dir/fuzz-$target.log" | sed "s/^/fuzz: $target: /" >&2
  else
    echo "fuzz: $target FAILED; the end of its log ($dir/fuzz-$target.log):" >&2
    tail -n 40 "$dir/fuzz-$target.log" >&2
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $dir/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets fuzzed (up to ${seconds}s each) without a failure" >&2
