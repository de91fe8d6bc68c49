#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The membership-driven partial mesh of hypar-mesh-demo, 30 processes on 127.0.0.1:
#   1. node i joins through node 0 (then node i-1). Once the overlay is one component, every
#      node's latest mesh line has: its outbound application connections (the PartialMesh's set)
#      == its active view (1 to 5 peers, where a full mesh would be 29), each connection at the
#      service that peer advertised (metadata "app"), and the nodes connected to its own service
#      (inbound) == its active view too;
#   2. 10 nodes (never node 0) are SIGKILLed; once the survivors have reported fresh lines and
#      form one component, the same holds for every survivor and no active peer, connection,
#      endpoint or inbound client is a killed node;
#   3. SIGTERM: every survivor prints {"event":"left"} and exits 0.
# Also: a bad or missing --app-listen exits 2 with one line; clients of a node's service that send
# a bad hello are logged and closed. Bounded: every wait has a limit.
# Usage: mesh_demo_test.sh PATH/TO/hypar-mesh-demo
set -u
export LC_ALL=C
DEMO=$1
source "$(dirname "$0")/procs.sh"

N=30
KILL=(1 4 7 10 13 16 19 22 25 28)
NODE_ARGS=(--keepalive 300ms --status-every 500ms --shuffle-period 2s)

# Argument errors first (no process left behind).
for bad in "--app-listen bogus" "--app-listen 0.0.0.0:9000" ""; do
  err=$("$DEMO" --listen 127.0.0.1:1 $bad 2>&1 >/dev/null); rc=$?
  if [ "$rc" -eq 2 ] && head -1 <<<"$err" | grep -q '^hypar-mesh-demo: .*app-listen'; then
    ok "'${bad:-no --app-listen}' exits 2: $(head -1 <<<"$err")"
  else
    fail "'${bad:-no --app-listen}': exit $rc, first line: $(head -1 <<<"$err")"
  fi
done

demo_listen() { printf '%s\n' --listen "127.0.0.1:$1" --app-listen 127.0.0.1:0; }
for ((i = 0; i < N; i++)); do
  joins=()
  [ "$i" -gt 0 ] && joins+=(--join "127.0.0.1:${PORTS[0]}")
  [ "$i" -gt 1 ] && joins+=(--join "127.0.0.1:${PORTS[$((i - 1))]}")
  if ! start_proc_with demo_listen "$i" /dev/null "$DEMO" --name "m$i" "${NODE_ARGS[@]}" "${joins[@]}"; then
    fail "node $i could not start"; exit 1
  fi
done
ok "$N nodes listening (ports from $BASE_PORT)"

# Each node's service endpoint, from its app_listening line; and which node owns an endpoint.
declare -A APP_OF=() NODE_OF_APP=()
for ((i = 0; i < N; i++)); do
  wait_until 5 has_line "${OUTS[$i]}" '"event":"app_listening"' || { fail "node $i printed no app_listening"; exit 1; }
  app=$(grep -m1 '"event":"app_listening"' "${OUTS[$i]}" | sed 's/.*"app":"\([^"]*\)".*/\1/')
  APP_OF[${IDS[$i]}]=$app
  NODE_OF_APP[$app]=${IDS[$i]}
done

# mesh_field INDEX FIELD: the list FIELD of process INDEX's latest mesh line, one item per line.
mesh_field() {
  grep '"event":"mesh"' "${OUTS[$1]}" 2>/dev/null | tail -1 |
    sed -n "s/.*\"$2\":\[\([^]]*\)\].*/\1/p" | tr ',' '\n' | tr -d '"' | grep -v '^$'
}
mesh_count() { grep -c '"event":"mesh"' "${OUTS[$1]}" 2>/dev/null; }

# mesh_ok INDEX: its latest mesh line is consistent, as described at the top. Prints why not.
mesh_ok() {
  local i=$1 active connected inbound n k
  active=$(mesh_field "$i" active)
  connected=$(mesh_field "$i" connected)
  inbound=$(mesh_field "$i" inbound)
  n=$(grep -c . <<<"$active")
  [ "$n" -ge 1 ] && [ "$n" -le 5 ] || { echo "node $i: active view of $n"; return 1; }
  [ "$active" = "$connected" ] || { echo "node $i: connected [$(echo $connected)] != active [$(echo $active)]"; return 1; }
  [ "$active" = "$inbound" ] || { echo "node $i: inbound [$(echo $inbound)] != active [$(echo $active)]"; return 1; }
  # The k-th endpoint is the service of the k-th connected peer.
  local -a peers endpoints
  mapfile -t peers <<<"$connected"
  mapfile -t endpoints < <(mesh_field "$i" endpoints)
  for k in "${!peers[@]}"; do
    [ "${endpoints[$k]:-}" = "${APP_OF[${peers[$k]}]:-none}" ] ||
      { echo "node $i: connection to ${peers[$k]} at ${endpoints[$k]:-nothing}, its service is ${APP_OF[${peers[$k]}]:-unknown}"; return 1; }
  done
}
all_mesh_ok() {  # all_mesh_ok INDEX...: quietly
  local i
  for i in "$@"; do mesh_ok "$i" >/dev/null || return 1; done
}
explain() {  # explain INDEX...: every node whose mesh line is not consistent, and why
  local i
  for i in "$@"; do mesh_ok "$i" | sed 's/^/  /'; done
}
total_connections() {
  local i t=0
  for i in "$@"; do t=$((t + $(mesh_field "$i" connected | grep -c .))); done
  echo "$t"
}

# Clients of node 0's service that are not nodes: a wrong hello line, and 200 bytes without a
# newline. Each is logged and closed; the check below shows node 0 still serving its peers.
app0=${APP_OF[${IDS[0]}]}
for junk in 'GARBAGE 1.2.3.4:5\n' "$(printf 'x%.0s' {1..200})"; do
  { exec 3<>"/dev/tcp/${app0%:*}/${app0##*:}" && printf "$junk" >&3 && sleep 0.2; exec 3>&-; } 2>/dev/null
done
if wait_until 5 grep -q 'bad hello line: closed' "${ERRS[0]}" && wait_until 5 grep -q 'no hello line in its first 128 bytes: closed' "${ERRS[0]}"; then
  ok "node 0 logged and closed the clients that sent a bad hello"
else
  fail "node 0 did not log the bad hellos"; tail -3 "${ERRS[0]}"
fi

ALL=($(seq 0 $((N - 1))))
settled() { connected "$@" && all_mesh_ok "$@"; }
start=$SECONDS
if wait_until 40 settled "${ALL[@]}"; then
  ok "within $((SECONDS - start)) s: one overlay; every node's app connections == its active view (and == inbound)"
  ok "$(total_connections "${ALL[@]}") application connections for $N nodes (a full mesh: $((N * (N - 1))))"
else
  connected "${ALL[@]}" || fail "the $N nodes are not one overlay after 40 s"
  fail "the mesh did not match the active views within 40 s"; explain "${ALL[@]}"
  exit 1
fi

# Crash a third of the nodes at once.
declare -A KILLED=()
for i in "${KILL[@]}"; do
  kill -KILL "${PIDS[$i]}"
  wait "${PIDS[$i]}" 2>/dev/null
  PIDS[$i]=""
  KILLED[${IDS[$i]}]=1
  KILLED[${APP_OF[${IDS[$i]}]}]=1
done
SURVIVORS=()
for i in "${ALL[@]}"; do [ -z "${KILLED[${IDS[$i]}]:-}" ] && SURVIVORS+=("$i"); done
ok "killed nodes ${KILL[*]}; ${#SURVIVORS[@]} survive"

declare -A COUNT_AT_KILL=()
for i in "${SURVIVORS[@]}"; do COUNT_AT_KILL[$i]=$(mesh_count "$i"); done
fresh_lines() {
  local i
  for i in "${SURVIVORS[@]}"; do [ "$(mesh_count "$i")" -gt "${COUNT_AT_KILL[$i]}" ] || return 1; done
}
# points_at_killed INDEX...: prints every active peer, connection, endpoint or inbound client of
# theirs that is a killed node (or its service).
points_at_killed() {
  local i f x
  for i in "$@"; do
    for f in active connected endpoints inbound; do
      for x in $(mesh_field "$i" "$f"); do [ -n "${KILLED[$x]:-}" ] && echo "  node $i: $f has killed $x"; done
    done
  done
}
healed() { fresh_lines && [ -z "$(points_at_killed "${SURVIVORS[@]}")" ] && settled "${SURVIVORS[@]}"; }
start=$SECONDS
if wait_until 30 healed; then
  ok "within $((SECONDS - start)) s: survivors one overlay; app connections == active view; none at a killed node"
  ok "$(total_connections "${SURVIVORS[@]}") application connections for ${#SURVIVORS[@]} nodes"
else
  fail "the survivors' mesh did not heal within 30 s"
  fresh_lines || fail "a survivor printed no mesh line after the kill"
  connected "${SURVIVORS[@]}" || fail "the survivors are not one overlay"
  points_at_killed "${SURVIVORS[@]}"
  explain "${SURVIVORS[@]}"
fi
for i in "${SURVIVORS[@]}"; do alive "$i" || fail "survivor $i died"; done

stop_all_gracefully "${SURVIVORS[@]}"
[ "$FAILURES" -eq 0 ] && ok "every survivor left gracefully and exited 0"

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
echo "all checks passed"
