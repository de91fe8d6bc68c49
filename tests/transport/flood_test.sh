#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A cluster of 5 `hypar node` processes on 127.0.0.1, then a flood at node 0 of 4,000 connections
# over 8 s from 8 other loopback addresses (127.0.0.2-9), half-open or garbage (hypar-test-flood):
#   1. during the flood a new node joins through node 0 alone;
#   2. the cluster's links are untouched: no link_down anywhere, the active views among the 5
#      nodes identical before and after;
#   3. node 0 enforced its caps (--max-handshakes-per-source 16 from each source, hence at most 128
#      in handshake), closed the connections over them at once (hypar_handshake_refusals_total
#      {reason="source_limit"}), timed out the others, and logged a bounded number of lines;
#   4. after the flood no handshake is left in progress; every node leaves gracefully.
# Usage: flood_test.sh PATH/TO/hypar PATH/TO/hypar-test-flood [epoll|uring]
# (the transport of every node; default: the node's own choice, io_uring where it works)
set -u
HYPAR=$1
FLOOD=$2
source "$(dirname "$0")/../apps/procs.sh"

N=5
JOINER=5
METRICS_OFFSET=1000
NODE_ARGS=(--keepalive 500ms --status-every 500ms --shuffle-period 2s ${3:+--transport "$3"})
TARGET_ARGS=(--max-handshakes 256 --max-handshakes-per-source 16 --handshake-timeout 1s)
with_metrics() { printf '%s\n' --listen "127.0.0.1:$1" --metrics-listen "127.0.0.1:$(($1 + METRICS_OFFSET))"; }

# metric SAMPLE: the value of one sample of node 0's /metrics (bash's /dev/tcp: no curl needed).
metric() {
  local port=$((PORTS[0] + METRICS_OFFSET))
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET /metrics HTTP/1.0\r\nHost: test\r\n\r\n' >&3
    timeout 5 cat <&3
  ) 2>/dev/null | tr -d '\r' | awk -v s="$1" 'index($0, s " ") == 1 { print $2 }'
}

if ! start_proc_with with_metrics 0 /dev/null "$HYPAR" node --name n0 "${NODE_ARGS[@]}" "${TARGET_ARGS[@]}"; then
  fail "node 0 could not start"; exit 1
fi
for ((i = 1; i < N; i++)); do
  joins=(--join "127.0.0.1:${PORTS[0]}")
  [ "$i" -gt 1 ] && joins+=(--join "127.0.0.1:${PORTS[$((i - 1))]}")
  start_proc "$i" /dev/null "$HYPAR" node --name "n$i" "${NODE_ARGS[@]}" "${joins[@]}" ||
    { fail "node $i could not start"; exit 1; }
done
ALL=($(seq 0 $((N - 1))))
transport=$(sed -n 's/.*listening on .*(\(.*\) transport).*/\1/p' "${ERRS[0]}" | head -1)
echo "     transport: $transport"
[ -z "${3:-}" ] || [ "$transport" = "$3" ] || { fail "node 0 runs the $transport transport, not $3"; exit 1; }

# With 5 nodes and active views of 5, the overlay settles as a full mesh: 4 peers each.
full_mesh() {
  local i
  for i in "${ALL[@]}"; do [ "$(active_of "$i" | wc -l)" -eq $((N - 1)) ] || return 1; done
}
show_views() {
  local i
  for i in "$@"; do
    echo "  node $i (port ${PORTS[$i]}): active=[$(active_of "$i" | tr '\n' ' ')]"
    grep -E '\[(warn|error)\]' "${ERRS[$i]}" | tail -3 | sed 's/^/    /'
  done
}
if wait_until 30 full_mesh; then
  ok "the $N nodes form a full mesh"
else
  fail "no full mesh within 30 s"; show_views "${ALL[@]}"; exit 1
fi
# Settled: every node has reported its views twice more since the mesh was full (no change in flight).
statuses_since() {  # statuses_since K COUNTS...: node i printed K status lines beyond COUNTS[i]
  local k=$1 i=0 c
  shift
  for c in "$@"; do [ "$(status_count "$i")" -ge $((c + k)) ] || return 1; i=$((i + 1)); done
}
status_counts() { local i; for i in "${ALL[@]}"; do status_count "$i"; done; }
counts=($(status_counts))
wait_until 10 statuses_since 2 "${counts[@]}" || { fail "the nodes stopped reporting their views"; exit 1; }
# The active views among the cluster's own nodes (the joiner left out).
views_among_cluster() {
  local i p
  for i in "${ALL[@]}"; do
    for p in $(active_of "$i" | sort); do
      for j in "${ALL[@]}"; do [ "$p" = "${IDS[$j]}" ] && echo "$i $p"; done
    done
  done
}
views_among_cluster >"$WORK/views.before"
downs_before=$(cat "${OUTS[@]:0:$N}" | grep -c '"event":"link_down"')

"$FLOOD" "127.0.0.1:${PORTS[0]}" 4000 8 2000 8 >"$WORK/flood.out" 2>"$WORK/flood.err" &
FLOOD_PID=$!
HELPER_PIDS+=("$FLOOD_PID")
wait_until 5 has_line "$WORK/flood.out" flooding || { fail "the flood did not start"; cat "$WORK/flood.err"; exit 1; }
# The joiner comes in once node 0 is saturated: its handshake slots from the flood's sources are in use.
saturated() { [ "$(metric hypar_inbound_handshakes)" -ge 64 ] 2>/dev/null; }
wait_until 5 saturated || fail "node 0 never had 64 flood connections in handshake at once"

# 1. A legitimate node joins through the flooded node while the flood goes on.
start_proc "$JOINER" /dev/null "$HYPAR" node --name joiner "${NODE_ARGS[@]}" --join "127.0.0.1:${PORTS[0]}" ||
  { fail "the joiner could not start"; exit 1; }
if wait_until 10 has_line "${OUTS[$JOINER]}" '"event":"joined"'; then
  if kill -0 "$FLOOD_PID" 2>/dev/null; then
    ok "a new node joined through the flooded node during the flood"
  else
    fail "the flood had ended before the joiner got in (the machine is too slow for this check)"
  fi
else
  fail "the joiner did not get in through the flooded node within 10 s"; tail -5 "${ERRS[$JOINER]}"
fi
peak=$(metric hypar_inbound_handshakes)

wait "$FLOOD_PID"
summary=$(grep connections= "$WORK/flood.out")
echo "     flood: $summary"
connections=$(sed -n 's/.*connections=\([0-9]*\).*/\1/p' <<<"$summary")
closed=$(sed -n 's/.*closed_by_target=\([0-9]*\).*/\1/p' <<<"$summary")
[ "${connections:-0}" -ge 3000 ] && ok "the flood opened $connections connections" ||
  fail "the flood opened only ${connections:-0} connections"

# 2. The cluster's links are untouched: checked once every node reported its views six times
# (3 s, past the 2.5 s keepalive timeout) after the flood ended; a link the flood starved is down by then.
counts=($(status_counts))
wait_until 10 statuses_since 6 "${counts[@]}" || fail "the nodes stopped reporting their views after the flood"
downs_after=$(cat "${OUTS[@]:0:$N}" | grep -c '"event":"link_down"')
[ "$downs_after" -eq "$downs_before" ] && ok "no link went down during the flood" ||
  { fail "$((downs_after - downs_before)) link_down lines during the flood"; grep -h link_down "${OUTS[@]:0:$N}"; }
views_among_cluster >"$WORK/views.after"
if cmp -s "$WORK/views.before" "$WORK/views.after"; then
  ok "the active views among the $N nodes are the same as before the flood"
else
  fail "the active views changed"; diff "$WORK/views.before" "$WORK/views.after"
fi
for i in "${ALL[@]}" "$JOINER"; do alive "$i" || fail "node $i died"; done

# 3. The caps held and said what happened, in a bounded number of log lines.
[ -n "$peak" ] && [ "$peak" -le 128 ] && ok "node 0 had $peak handshakes in progress mid-flood (cap 8 x 16 = 128)" ||
  fail "node 0 had ${peak:-?} handshakes in progress mid-flood (cap 128)"
over_source=$(metric 'hypar_handshake_refusals_total{reason="source_limit"}')
timeouts=$(metric 'hypar_handshake_refusals_total{reason="timeout"}')
echo "     node 0: source_limit=${over_source:-?} timeout=${timeouts:-?} closed_by_target=${closed:-?}"
# How many of the flood's connections meet the cap depends on the machine's load (about 1,500 of
# 4,000 in a release build, 665 under ASan beside three other tests, where more of them end with
# another reason), so the bound is a tenth; without the cap it is 0.
[ "${over_source:-0}" -ge $((${connections:-0} / 10)) ] && [ "${over_source:-0}" -gt 0 ] &&
  ok "node 0 closed ${over_source} connections at once over the per-source cap" ||
  fail "only ${over_source:-0} of ${connections:-0} connections refused over the per-source cap (at least a tenth expected)"
[ "${timeouts:-0}" -ge 1 ] && ok "the connections admitted into a handshake timed out (${timeouts})" ||
  fail "no handshake timed out"
lines=$(grep -c 'refused connection' "${ERRS[0]}")
[ "$lines" -le 200 ] && ok "node 0 logged $lines refusal lines for $connections connections" ||
  fail "node 0 logged $lines refusal lines for $connections connections (not rate limited)"
grep -q 'max_handshakes_per_source' "${ERRS[0]}" && ok "the log names the cap (max_handshakes_per_source)" ||
  fail "no log line names max_handshakes_per_source"

# 4. Nothing left in handshake once the flood is over.
no_handshake_left() { [ "$(metric hypar_inbound_handshakes)" = "0" ]; }
wait_until 5 no_handshake_left && ok "no handshake left in progress after the flood" ||
  fail "handshakes still in progress after the flood: $(metric hypar_inbound_handshakes)"

stop_all_gracefully "${ALL[@]}" "$JOINER"
[ "$FAILURES" -eq 0 ] && echo "PASS" || { echo "FAILED ($FAILURES)"; exit 1; }
