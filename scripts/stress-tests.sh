#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the tests that could depend on timing (real sockets, real processes, io_uring) ROUNDS times
# in a row (default 20) while CPU burners keep every core busy, and reports each failure. A test
# that waits on its condition with a bound passes under load; one that leans on the clock fails
# here first (docs/testing.md, "Stress runs").
# Usage: scripts/stress-tests.sh [BUILD_DIR [TEST_REGEX]]
#   STRESS_ROUNDS (20), STRESS_BURNERS (number of cores), STRESS_JOBS (ctest -j, 2).
# Exit status: 0 when every round passed, 1 otherwise; the failing rounds' logs are kept in
# BUILD_DIR/stress/ and named.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
# Real sockets and processes: the node over both transports, io_uring, the broadcaster over TCP,
# the process-level app tests (the connection flood, TLS, the secret roll, hooks, the mesh demo), the
# operations tests, the short chaos tests, and the doc programs.
regex=${2:-'^(test-node\[|test-uring:|test-broadcast:.*TCP|test-mesh:|test-hooks:|test-node-deploy:|hypar-cluster$|flooder$|plumcast$|hypar-bad-input$|hypar-json-log$|hypar-deploy$|hypar-discovery$|hypar-flood|hypar-tls-|test-tls:|hypar-secret-roll$|hypar-hooks$|mesh-demo$|ops-|chaos-views$|chaos-stall$|doc:.*:run$)'}
rounds=${STRESS_ROUNDS:-20}
burners=${STRESS_BURNERS:-$(nproc)}
jobs=${STRESS_JOBS:-2}

[ -f "$build/CTestTestfile.cmake" ] || { echo "stress-tests: no build in $build (scripts/build.sh first)" >&2; exit 2; }
count=$(ctest --test-dir "$build" -N -R "$regex" | sed -n 's/^Total Tests: //p')
[ "${count:-0}" -gt 0 ] || { echo "stress-tests: no test matches $regex in $build" >&2; exit 2; }

declare -a burner_pids=()
stop_burners() {
  local pid
  for pid in "${burner_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${burner_pids[@]}"; do wait "$pid" 2>/dev/null; done
}
trap stop_burners EXIT
trap 'exit 1' INT TERM
for ((b = 0; b < burners; b++)); do
  ( while :; do :; done ) &
  burner_pids+=($!)
done

logs="$build/stress"
mkdir -p "$logs"
echo "stress-tests: $count tests x $rounds rounds, $burners CPU burners, ctest -j$jobs ($build)"
declare -A failed=()
bad_rounds=0
start=$SECONDS
for ((r = 1; r <= rounds; r++)); do
  log="$logs/round-$r.log"
  if ctest --test-dir "$build" -R "$regex" -j "$jobs" --timeout 600 --output-on-failure >"$log" 2>&1; then
    echo "round $r/$rounds: ok ($((SECONDS - start)) s so far)"
    rm -f "$log"
  else
    bad_rounds=$((bad_rounds + 1))
    names=$(sed -n 's/^[[:space:]]*[0-9]* - \(.*\) (.*)$/\1/p' "$log")
    echo "round $r/$rounds: FAILED: $(echo "$names" | tr '\n' ' ') (log: $log)"
    while IFS= read -r name; do [ -n "$name" ] && failed[$name]=$((${failed[$name]:-0} + 1)); done <<<"$names"
  fi
done
echo "stress-tests: $((rounds - bad_rounds))/$rounds rounds passed in $((SECONDS - start)) s"
for name in "${!failed[@]}"; do echo "  $name failed ${failed[$name]} time(s)"; done
[ "$bad_rounds" -eq 0 ]
