#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-scale --processes: 60 nodes over 3 worker processes on real loopback TCP reach the health
# criterion (every active view >= active_size - 1, symmetric, connected), checked globally by the
# parent. The open-file limit is lowered so that one process could not hold the 60 nodes (hard 300)
# and the soft limit below what a worker needs (100): the workers must raise theirs, and with
# --processes 1 the case is skipped with a message naming the process count it needs.
# Timings are not checked. Usage: bench_scale_test.sh BENCH_SCALE TRANSPORT   (exit 77: SKIP)
set -u
exe=$1 transport=$2
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
ulimit -Sn 100 && ulimit -Hn 300 || { echo "SKIP: cannot lower the open-file limit"; exit 77; }
err=$(mktemp)
trap 'rm -f "$err"' EXIT
out=$(timeout 150 "$exe" --nodes 60 --processes 3 --transport "$transport" --idle-seconds 1 --settle-seconds 1 --limit-seconds 90 2>"$err")
rc=$?
if [ "$rc" -ne 0 ] && [ "$transport" = uring ] && grep -qi "io_uring" "$err"; then
  echo "SKIP: io_uring is not available here: $(head -1 "$err")"; exit 77
fi
cat "$err"
echo "$out"
check "exits 0" test "$rc" -eq 0
check "prints the header" grep -qx "nodes,processes,transport,converge_s,converged,full_pct,rss_kib_per_node,idle_cpu_us_per_node_s" <<<"$out"
check "the row says converged (symmetric, connected, views >= active_size - 1)" \
  grep -Eq "^60,3,$transport,[0-9.]+,yes,[0-9.]+,[0-9.]+,[0-9.]+$" <<<"$out"
# The nodes' timers and join as options: the paper's join, 4 s dials, keepalive 0.5 s / 2.5 s.
out2=$(timeout 150 "$exe" --nodes 60 --processes 3 --transport "$transport" --idle-seconds 1 --limit-seconds 90 \
  --join-swaps 0 --dial-timeout 4 --keepalive 0.5 2>"$err")
check "--join-swaps, --dial-timeout, --keepalive: the case runs and converges" \
  grep -Eq "^60,3,$transport,[0-9.]+,yes,[0-9.]+,[0-9.]+,[0-9.]+$" <<<"$out2"
check "--join-swaps above its bound is refused" bash -c "! '$exe' --nodes 60 --join-swaps 1001 >/dev/null 2>&1"
out1=$(timeout 60 "$exe" --nodes 60 --processes 1 --transport "$transport" --idle-seconds 1 2>&1)
check "one process over the limit: skipped, naming the processes needed" \
  grep -q "skipping 60 nodes over 1 processes.*use --processes 2 or more" <<<"$out1"
if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
