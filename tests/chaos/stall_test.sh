#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stall: 8 plumcast nodes on 127.0.0.1 in a namespace of their own (--keepalive 200ms: a peer
# silent for 1 s is failed); node 0 broadcasts 5 messages a second throughout. Node 5 is SIGSTOPped
# for STALL_S seconds (default 4, four times the keepalive timeout), then SIGCONTinued.
#   1. every neighbour it had reports link_down for it with reason "timed_out" (within 5 s; one that
#      evicted it for another peer just before may say "evicted"), and
#      the others stay one component without it;
#   2. after SIGCONT it notices: it reports link_down for each of its old neighbours, then link_up
#      again, and the overlay is one component with it within 15 s;
#   3. it delivers what is broadcast after its return, and the messages broadcast while it was
#      stopped (Plumtree's IHAVE of its cache to a new neighbour);
#   4. nothing is delivered twice, by any node.
# Usage: stall_test.sh PATH/TO/plumcast   (env: STALL_S [4])
set -u
PLUMCAST=$1
source "$(dirname "$0")/chaos.sh"
chaos_require

STALL_S=${STALL_S:-4}
NS="hycs$$"
ns_create "$NS"
N=8
V=5
ALL=($(seq 0 $((N - 1))))
OTHERS=(0 1 2 3 4 6 7)
for i in "${ALL[@]}"; do start_chained "$i" "$NS" 127.0.0.1 0 "$PLUMCAST" --keepalive 200ms --shuffle-period 2s; done
formed() { connected "${ALL[@]}" && [ "$(min_active "${ALL[@]}")" -ge 2 ]; }
wait_until 30 formed && ok "$N nodes: one component, every active view >= 2" ||
  { fail "the overlay did not form within 30 s"; show_views "${ALL[@]}"; exit 1; }

SENT=()
SEQ=0
send_some() {  # send_some PREFIX COUNT: node 0 broadcasts COUNT messages, 5 a second
  local k
  for ((k = 0; k < $2; k++)); do SEQ=$((SEQ + 1)); say 0 "$1$SEQ"; SENT+=("$1$SEQ"); sleep 0.2; done
}
send_some before- 5
lines() { wc -l <"${OUTS[$1]}"; }
after() { tail -n "+$(($2 + 1))" "${OUTS[$1]}"; }  # after INDEX LINE: the lines after line LINE

# ---------------------------------------------------------------- the stall
declare -A MARK=()
for i in "${ALL[@]}"; do MARK[$i]=$(lines "$i"); done
kill -STOP "${PIDS[$V]}"
stop_at=$SECONDS
# Node V's output is frozen now: its neighbours are those of its last view. (Read before the stop,
# a link could change in between; scripts/stress-tests.sh caught an eviction just before it.)
NEIGH=()
for p in $(active_of "$V"); do NEIGH+=("${INDEX_OF[$p]}"); done
echo "info - node $V (${IDS[$V]}) stopped; its neighbours: ${NEIGH[*]}"
neighbours_timed_out() {
  local i
  # A neighbour that evicted V for another peer after the mark (its DISCONNECT still unread by the
  # stopped V) dropped it legitimately; at least one must have timed it out.
  local timed_out=0
  for i in "${NEIGH[@]}"; do
    after "$i" "${MARK[$i]}" | grep -qE "\"event\":\"link_down\",\"peer\":\"${IDS[$V]}\",\"reason\":\"(timed_out|evicted)\"" || return 1
    after "$i" "${MARK[$i]}" | grep -q "\"peer\":\"${IDS[$V]}\",\"reason\":\"timed_out\"" && timed_out=$((timed_out + 1))
  done
  [ "$timed_out" -ge 1 ]
}
others_without_v() { local i; for i in "${OTHERS[@]}"; do active_of "$i" | grep -qxF "${IDS[$V]}" && return 1; done; connected "${OTHERS[@]}"; }
if wait_until 5 neighbours_timed_out; then
  ok "every neighbour of node $V reported link_down reason timed_out (or evicted it just before), $((SECONDS - stop_at)) s after SIGSTOP"
else
  for i in "${NEIGH[@]}"; do
    echo "  neighbour $i: $(after "$i" "${MARK[$i]}" | grep "\"peer\":\"${IDS[$V]}\"" | grep link_down | head -1)"
  done
  fail "not every neighbour reported node $V as timed_out within 5 s"
fi
wait_until 5 others_without_v && ok "the other 7 are one component without node $V" ||
  { fail "the others still list node $V or are split"; show_views "${OTHERS[@]}"; }
send_some during- 5
while [ $((SECONDS - stop_at)) -lt "$STALL_S" ]; do sleep 0.2; done

# ---------------------------------------------------------------- the return
vmark=$(lines "$V")
kill -CONT "${PIDS[$V]}"
cont_at=$SECONDS
noticed() {
  local i
  for i in "${NEIGH[@]}"; do after "$V" "$vmark" | grep -q "\"event\":\"link_down\",\"peer\":\"${IDS[$i]}\"" || return 1; done
}
rejoined() { after "$V" "$vmark" | grep -q '"event":"link_up"' && [ "$(active_of "$V" | wc -l)" -ge 1 ] && connected "${ALL[@]}"; }
if wait_until 15 noticed; then
  ok "node $V noticed: link_down for each old neighbour ($(after "$V" "$vmark" | grep link_down |
    sed 's/.*"reason":"\([^"]*\)".*/\1/' | sort | uniq -c | tr -s ' ' | tr '\n' ',' | sed 's/,$//'))"
else
  fail "node $V did not report link_down for all its old neighbours within 15 s of SIGCONT"
  after "$V" "$vmark" | head -20
fi
if wait_until 15 rejoined; then
  ok "node $V rejoined: one component, its active view has $(active_of "$V" | wc -l) peers, $((SECONDS - cont_at)) s after SIGCONT"
else
  fail "node $V did not rejoin within 15 s of SIGCONT"; show_views "${ALL[@]}"
fi
send_some after- 5
if wait_until 10 all_delivered "${ALL[*]}" "${SENT[@]}"; then
  ok "every node, node $V included, delivered all ${#SENT[@]} messages (those sent while it was stopped too)"
else
  for i in "${ALL[@]}"; do m=$(missing "$i" "${SENT[@]}" | tr '\n' ' '); [ -n "$m" ] && echo "  node $i misses: $m"; done
  fail "some messages never reached every node"
fi
check_once_and_alive "${ALL[@]}"
[ "$FAILURES" -eq 0 ] && ok "no message delivered twice"

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
