#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# hypar-sim --metrics-out: every simulated node's metrics under the names a real node serves,
# labelled node="IP:PORT", valid for promtool (when installed), and moving as the run did:
# each node started one shuffle per round; after a churn run's crash, dead nodes report
# hypar_up 0 and survivors count failed/timed-out links.
# Usage: hypar_sim_metrics_test.sh PATH/TO/hypar-sim
set -u
SIM=$1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hypar-sim-metrics.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
ok() { echo "ok   - $*"; }

"$SIM" graph --nodes 40 --rounds 6 --quiet --metrics-out "$WORK/graph.prom" >/dev/null || fail "graph run failed"
nodes=$(grep -c '^hypar_active_peers{node=' "$WORK/graph.prom")
[ "$nodes" -eq 40 ] && ok "hypar_active_peers for all 40 nodes" || fail "hypar_active_peers for $nodes nodes, not 40"
# The last node joined last: it ran the 6 rounds' shuffles (join interval 10 ms, period 10 s).
shuffles=$(sed -n 's/^hypar_shuffles_total{node="127.0.0.40:7000"} //p' "$WORK/graph.prom")
[ "${shuffles:-0}" -ge 5 ] && ok "node 40 started $shuffles shuffles" || fail "node 40 started '${shuffles:-}' shuffles"
joins=$(awk '/^hypar_join_attempts_total/ { s += $2 } END { print s }' "$WORK/graph.prom")
[ "$joins" -ge 39 ] && ok "$joins join attempts" || fail "only $joins join attempts for 39 joiners"

"$SIM" churn --nodes 60 --rounds 5 --fail 30 --observe-s 5 --quiet --metrics-out "$WORK/churn.prom" >/dev/null ||
  fail "churn run failed"
dead=$(grep -c '^hypar_up{.*} 0$' "$WORK/churn.prom")
[ "$dead" -eq 18 ] && ok "18 crashed nodes report hypar_up 0" || fail "$dead nodes report hypar_up 0, expected 18"
lost=$(awk '/^hypar_link_down_total\{.*reason="(failed|timed_out)"\}/ { s += $2 } END { print s + 0 }' "$WORK/churn.prom")
[ "$lost" -gt 0 ] && ok "survivors counted $lost links lost to the crash" || fail "no link_down{reason=failed|timed_out}"

if command -v promtool >/dev/null; then
  for f in graph churn; do
    if out=$(promtool check metrics <"$WORK/$f.prom" 2>&1); then ok "promtool accepts $f.prom"; else fail "promtool on $f.prom: $out"; fi
  done
else
  echo "promtool not installed (scripts/install-deps.sh --ops): format check skipped"
fi

"$SIM" plumtree --metrics-out "$WORK/x.prom" >/dev/null 2>&1
[ $? -eq 2 ] && ok "--metrics-out on plumtree is a usage error (exit 2)" || fail "--metrics-out on plumtree not refused"
"$SIM" graph --nodes 3 --rounds 1 --quiet --metrics-out /nonexistent-dir/x.prom >/dev/null 2>"$WORK/err"
[ $? -eq 1 ] && grep -q "cannot write /nonexistent-dir/x.prom" "$WORK/err" && ok "unwritable file: exit 1 with a clear line" ||
  fail "unwritable --metrics-out file not reported"
[ "$failures" -eq 0 ]
