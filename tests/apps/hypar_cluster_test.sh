#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real 20-node cluster of `hypar node` processes on 127.0.0.1:
#   1. node i joins through node 0 (then node i-1); every node's active view reaches >= 3;
#   2. 6 nodes (never node 0) are SIGKILLed; within 10 s no survivor lists a killed node as active
#      and the survivors' active-view graph is connected;
#   3. SIGTERM: every survivor prints {"event":"left"} and exits 0.
# Usage: hypar_cluster_test.sh PATH/TO/hypar
set -u
HYPAR=$1
source "$(dirname "$0")/procs.sh"

N=20
KILL=(3 5 8 11 14 17)
NODE_ARGS=(--keepalive 200ms --status-every 500ms --shuffle-period 2s ${HYPAR_TEST_NODE_ARGS:-})

for ((i = 0; i < N; i++)); do
  joins=()
  [ "$i" -gt 0 ] && joins+=(--join "127.0.0.1:${PORTS[0]}")
  [ "$i" -gt 1 ] && joins+=(--join "127.0.0.1:${PORTS[$((i - 1))]}")
  if ! start_proc "$i" /dev/null "$HYPAR" node --name "n$i" "${NODE_ARGS[@]}" "${joins[@]}"; then
    fail "node $i could not start"; exit 1
  fi
  sleep 0.2  # stagger the joins a little, as a real deployment would
done
ok "$N nodes listening (ports from $BASE_PORT)"

all_active_at_least() {  # all_active_at_least K INDEX...
  local k=$1 i; shift
  for i in "$@"; do
    [ "$(last_view "$i" active | wc -l)" -ge "$k" ] || return 1
  done
}
show_views() {
  local i
  for i in "$@"; do
    echo "  node $i (port ${PORTS[$i]}): active=[$(last_view "$i" active | tr '\n' ' ')] $(status_count "$i") status lines"
    grep -E '\[(warn|error)\]' "${ERRS[$i]}" | tail -3 | sed 's/^/    /'
  done
}

ALL=($(seq 0 $((N - 1))))
if wait_until 30 all_active_at_least 3 "${ALL[@]}"; then
  ok "every node has an active view of >= 3 peers"
else
  fail "not every node reached an active view of 3 within 30 s"
  show_views "${ALL[@]}"
  exit 1
fi
for i in "${ALL[@]}"; do
  has_line "${OUTS[$i]}" '"event":"joined"' || [ "$i" -eq 0 ] || fail "node $i printed no joined line"
done

# Crash 6 nodes at once.
declare -A KILLED=()
for i in "${KILL[@]}"; do
  kill -KILL "${PIDS[$i]}"
  wait "${PIDS[$i]}" 2>/dev/null
  PIDS[$i]=""
  KILLED["127.0.0.1:${PORTS[$i]}"]=1
done
SURVIVORS=()
for i in "${ALL[@]}"; do [ -z "${KILLED["127.0.0.1:${PORTS[$i]}"]:-}" ] && SURVIVORS+=("$i"); done
ok "killed nodes ${KILL[*]}; ${#SURVIVORS[@]} survive"

no_killed_in_active() {
  local i a
  for i in "${SURVIVORS[@]}"; do
    for a in $(last_view "$i" active); do
      [ -n "${KILLED[$a]:-}" ] && return 1
    done
  done
  return 0
}
# Connected: a breadth-first search in awk over the survivors' active views (edges taken both ways).
survivors_connected() {
  local i a
  {
    for i in "${SURVIVORS[@]}"; do
      echo "node 127.0.0.1:${PORTS[$i]}"
      for a in $(last_view "$i" active); do echo "edge 127.0.0.1:${PORTS[$i]} $a"; done
    done
  } | awk '
    $1 == "node" { nodes[$2] = 1; count++; if (!start) start = $2; next }
    $1 == "edge" { adj[$2] = adj[$2] " " $3; adj[$3] = adj[$3] " " $2 }
    END {
      queue[0] = start; head = 0; tail = 1; seen[start] = 1; reached = 1
      while (head < tail) {
        n = split(adj[queue[head++]], next_nodes, " ")
        for (j = 1; j <= n; j++) {
          v = next_nodes[j]
          if ((v in nodes) && !(v in seen)) { seen[v] = 1; reached++; queue[tail++] = v }
        }
      }
      exit (reached == count ? 0 : 1)
    }'
}
# Every survivor reports a fresh status line after the kill before the views are judged.
declare -A COUNT_AT_KILL=()
for i in "${SURVIVORS[@]}"; do COUNT_AT_KILL[$i]=$(status_count "$i"); done
fresh_statuses() {
  local i
  for i in "${SURVIVORS[@]}"; do [ "$(status_count "$i")" -gt "${COUNT_AT_KILL[$i]}" ] || return 1; done
}
healed() { fresh_statuses && no_killed_in_active && survivors_connected; }

start=$SECONDS
if wait_until 10 healed; then
  ok "within $((SECONDS - start)) s: no killed node in any active view, survivors connected"
else
  no_killed_in_active || fail "a survivor still lists a killed node as active 10 s after the crash"
  survivors_connected || fail "the survivors' active-view graph is not connected 10 s after the crash"
  fresh_statuses || fail "a survivor printed no status line in the 10 s after the crash"
  show_views "${SURVIVORS[@]}"
fi
for i in "${SURVIVORS[@]}"; do alive "$i" || fail "survivor $i died"; done

stop_all_gracefully "${SURVIVORS[@]}"
[ "$FAILURES" -eq 0 ] && ok "every survivor left gracefully and exited 0"

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
echo "all checks passed"
