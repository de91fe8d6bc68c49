#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: install what is missing, build, and run a real local cluster of `hypar node`
# processes on 127.0.0.1. It converges, loses 6 of its 20 nodes at once (SIGKILL), heals, and
# then every survivor leaves gracefully. One summary line per second on stdout; every node's
# JSON events and logs are kept in a temporary folder named at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
dir=$(scripts/build.sh release)
hypar="$dir/apps/hypar/hypar"

nodes=${NODES:-20}
kill_count=${KILL:-6}
work=$(mktemp -d "${TMPDIR:-/tmp}/hypar-cluster.XXXXXX")
# Ports below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default),
# so that no node's outgoing connection can take a port a later node is about to listen on.
base=$((20000 + ($$ % 12000)))
declare -a pids=() ports=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_node() {  # start_node INDEX
  local i=$1 port=$((base + $1)) args=()
  [ "$i" -gt 0 ] && args+=(--join "127.0.0.1:$base")
  [ "$i" -gt 1 ] && args+=(--join "127.0.0.1:$((port - 1))")
  "$hypar" node --listen "127.0.0.1:$port" --name "n$i" "${args[@]}" \
    --keepalive 200ms --shuffle-period 2s --status-every 500ms >"$work/n$i.out" 2>"$work/n$i.err" &
  pids[$i]=$!
  ports[$i]=$port
}

# One line from the latest status of every live node: how many are full, short, pointing at dead
# nodes, and whether the active-view graph is symmetric and connected.
summary() {  # summary LABEL LIVE_INDEXES...
  local label=$1; shift
  for i in "$@"; do
    local active
    active=$({ grep '"event":"status"' "$work/n$i.out" || true; } | tail -1 |
      sed 's/.*"active":\[\([^]]*\)\].*/\1/; s/"127.0.0.1://g; s/"//g; s/,/ /g')
    printf '%s %s\n' "${ports[$i]}" "$active"
  done | awk -v label="$label" -v size=5 '
    { live[$1] = 1; n[$1] = NF - 1; for (k = 2; k <= NF; k++) edge[$1, $k] = 1; adj[$1] = $0 }
    END {
      full = short = dead = asym = 0
      for (a in live) {
        if (n[a] >= size) full++; else short++
        split(adj[a], f, " ")
        for (k = 2; k <= n[a] + 1; k++) { b = f[k]; if (!(b in live)) dead++; else if (!((b, a) in edge)) asym++ }
      }
      for (a in live) { start = a; break }
      seen[start] = 1; queue[1] = start; head = 1; tail = 1
      while (head <= tail) {
        a = queue[head++]; split(adj[a], f, " ")
        for (k = 2; k <= n[a] + 1; k++) { b = f[k]; if ((b in live) && !(b in seen)) { seen[b] = 1; queue[++tail] = b } }
      }
      count = 0; for (a in live) count++
      printf "%-10s nodes=%d full=%d short=%d links_to_dead=%d symmetric=%s connected=%s\n",
             label, count, full, short, dead, (asym == 0 ? "yes" : "no"), (tail == count ? "yes" : "no")
    }'
}

echo "== starting $nodes nodes on 127.0.0.1:$base..$((base + nodes - 1)) (logs in $work)"
for ((i = 0; i < nodes; i++)); do start_node "$i"; sleep 0.1; done
live=($(seq 0 $((nodes - 1))))
for t in 1 2 3 4 5 6 7 8; do sleep 1; summary "t=${t}s" "${live[@]}"; done

victims=($(seq 1 $((nodes - 1)) | shuf -n "$kill_count" --random-source=<(yes)))
echo "== SIGKILL ${#victims[@]} nodes: ${victims[*]}"
for v in "${victims[@]}"; do kill -KILL "${pids[$v]}"; wait "${pids[$v]}" 2>/dev/null || true; unset "pids[$v]"; done
live=()
for ((i = 0; i < nodes; i++)); do [ -n "${pids[$i]:-}" ] && live+=("$i"); done
for t in 1 2 3 4 5 6; do sleep 1; summary "+${t}s" "${live[@]}"; done

echo "== SIGTERM the ${#live[@]} survivors: each leaves gracefully"
for i in "${live[@]}"; do kill -TERM "${pids[$i]}"; done
left=0
for i in "${live[@]}"; do
  if wait "${pids[$i]}" && grep -q '"event":"left"' "$work/n$i.out"; then left=$((left + 1)); fi
  unset "pids[$i]"
done
echo "== $left of ${#live[@]} survivors left gracefully and exited 0; logs in $work"
[ "$left" -eq "${#live[@]}" ]
