#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-latency runs end to end with very few round trips: every row of the table is there (the
# floor, and both transports under every condition), the plot is written, a bad value exits 2.
# The values are not checked (benchmarks print numbers; they are not timed tests).
# Usage: bench_latency_smoke_test.sh BENCH_LATENCY
set -euo pipefail
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
"$bench" --round-trips 50 --warmup 5 --seconds 1 --sockperf off --plot "$tmp/latency.svg" >"$tmp/out" 2>&1 || status=$?
cat "$tmp/out"
if grep -q "^# uring,.* failed: .*io_uring" "$tmp/out"; then
  echo "SKIP: io_uring unavailable here"
  exit 77
fi
[ "$status" -eq 0 ] || { echo "FAIL: bench-latency exited $status"; exit 1; }
grep -qx "row,condition,count,p50_us,p99_us,p99_9_us,max_us,p50_x_socket,p99_9_x_socket,flood_mb_per_s" "$tmp/out" \
  || { echo "FAIL: no header"; exit 1; }
for row in tcp-socket,idle {uring,epoll},{idle,flood,flood-small-queue,flood-lane}; do
  grep -q "^$row,[0-9]" "$tmp/out" || { echo "FAIL: no row $row"; exit 1; }
done
grep -q "<svg" "$tmp/latency.svg" || { echo "FAIL: no SVG written"; exit 1; }

status=0
"$bench" --round-trips 0 >/dev/null 2>"$tmp/err" || status=$?
[ "$status" -eq 2 ] || { echo "FAIL: --round-trips 0 exited $status, expected 2"; exit 1; }
grep -q "round-trips" "$tmp/err" || { echo "FAIL: the error does not name --round-trips"; exit 1; }
echo "bench-latency smoke: ok"
