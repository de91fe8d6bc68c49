#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rolling the cluster secret across 4 running `hypar node` processes on 127.0.0.1, one node at a
# time, in the three rounds docs/protocol.md gives (repeated --secret-file: the first proves, any
# is accepted):
#   round 0: every node --secret-file old                   (start)
#   round 1: each node restarted with old, new              (still proves with old, accepts new)
#   round 2: each node restarted with new, old              (proves with new, still accepts old)
#   round 3: each node restarted with new                   (old is gone)
# After every restart the restarted node joins and the 4 nodes form a full mesh again, and no node
# ever logs a refusal for the secret. Then the teeth: a node with only the old secret is refused
# by the rolled cluster ("wrong cluster secret"), and so is a node at round 0 by a node at round 2.
# Usage: secret_roll_test.sh PATH/TO/hypar
set -u
HYPAR=$1
source "$(dirname "$0")/../apps/procs.sh"

N=4
NODE_ARGS=(--keepalive 500ms --shuffle-period 2s --handshake-timeout 2s)
head -c 24 /dev/urandom | base64 >"$WORK/old"
head -c 24 /dev/urandom | base64 >"$WORK/new"
chmod 600 "$WORK/old" "$WORK/new"
ROUND_FILES=("old" "old new" "new old" "new")
secret_args() {  # secret_args ROUND: the --secret-file options of that round
  local f
  for f in ${ROUND_FILES[$1]}; do printf '%s\n' --secret-file "$WORK/$f"; done
}

declare -a CUR=()  # process index of each of the N node slots now (every start gets a new index)
NEXT=0
# start_slot SLOT ROUND: starts the node of SLOT with ROUND's secrets, joining through the others.
start_slot() {
  local slot=$1 round=$2 other
  local -a joins=() secrets
  mapfile -t secrets < <(secret_args "$round")
  for other in "${CUR[@]}"; do [ -n "$other" ] && joins+=(--join "${IDS[$other]}"); done
  start_proc "$NEXT" /dev/null "$HYPAR" node --name "s$slot-r$round" "${NODE_ARGS[@]}" "${secrets[@]}" "${joins[@]}" ||
    { fail "slot $slot (round $round) could not start"; exit 1; }
  CUR[$slot]=$NEXT
  NEXT=$((NEXT + 1))
}
full_mesh() {
  local slot
  for slot in $(seq 0 $((N - 1))); do
    [ "$(active_of "${CUR[$slot]}" | wc -l)" -eq $((N - 1)) ] || return 1
  done
}
secret_refusals() { cat "${ERRS[@]}" | grep -i 'secret' | grep -vc 'accessible to group'; }
show() {
  local slot
  for slot in $(seq 0 $((N - 1))); do
    echo "  slot $slot (process ${CUR[$slot]}, ${IDS[${CUR[$slot]}]}): active=[$(active_of "${CUR[$slot]}" | tr '\n' ' ')]"
  done
  cat "${ERRS[@]}" | grep -i secret | tail -5 | sed 's/^/    /'
}

for ((slot = 0; slot < N; slot++)); do start_slot "$slot" 0; done
wait_until 30 full_mesh && ok "round 0: $N nodes with the old secret form a full mesh" ||
  { fail "round 0: no full mesh"; show; exit 1; }

for round in 1 2 3; do
  for ((slot = 0; slot < N; slot++)); do
    stop_all_gracefully "${CUR[$slot]}"
    CUR[$slot]=""
    start_slot "$slot" "$round"
    if ! wait_until 20 has_line "${OUTS[${CUR[$slot]}]}" '"event":"joined"' || ! wait_until 20 full_mesh; then
      fail "round $round: slot $slot restarted with [${ROUND_FILES[$round]}] did not rejoin the full mesh"
      show; exit 1
    fi
    refusals=$(secret_refusals)
    [ "$refusals" -eq 0 ] || { fail "round $round, slot $slot: $refusals log lines about the secret"; show; exit 1; }
  done
  ok "round $round: every node restarted with [${ROUND_FILES[$round]}], full mesh each time, no refusal"
done

# The teeth: the rolled cluster refuses a node that only knows the old secret...
OLD_ONLY=$NEXT
start_proc "$OLD_ONLY" /dev/null "$HYPAR" node --name old-only "${NODE_ARGS[@]}" --secret-file "$WORK/old" \
  --join "${IDS[${CUR[0]}]}" || { fail "the old-only node could not start"; exit 1; }
NEXT=$((NEXT + 1))
if wait_until 15 has_line "${OUTS[$OLD_ONLY]}" '"event":"join_failed"' &&
   wait_until 5 eval "cat \"\${ERRS[@]}\" | grep -q 'wrong cluster secret'"; then
  ok "a node with only the old secret is refused (wrong cluster secret)"
else
  fail "the node with only the old secret was not refused"; show
fi
has_line "${OUTS[$OLD_ONLY]}" '"event":"link_up"' && fail "the old-only node got a link"
stop_all_gracefully "$OLD_ONLY"

# ...and two rounds apart is one round too far: [old] and [new, old] do not accept each other.
R2=$NEXT
mapfile -t r2_secrets < <(secret_args 2)
start_proc "$R2" /dev/null "$HYPAR" node --name round2 "${NODE_ARGS[@]}" "${r2_secrets[@]}" ||
  { fail "the round-2 node could not start"; exit 1; }
R0=$((NEXT + 1))
NEXT=$((NEXT + 2))
start_proc "$R0" /dev/null "$HYPAR" node --name round0 "${NODE_ARGS[@]}" --secret-file "$WORK/old" --join "${IDS[$R2]}" ||
  { fail "the round-0 node could not start"; exit 1; }
if wait_until 15 has_line "${OUTS[$R0]}" '"event":"join_failed"'; then
  ok "a round-0 node and a round-2 node refuse each other"
else
  fail "a round-0 node and a round-2 node were not refused"
fi

stop_all_gracefully "${CUR[@]}" "$R2" "$R0"
[ "$FAILURES" -eq 0 ] && echo "PASS" || { echo "FAILED ($FAILURES)"; exit 1; }
