#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Churn soak: 30 plumcast processes on 127.0.0.1 in a namespace of their own (--keepalive 200ms:
# a silent peer is failed after 1 s). Nodes 0-9 live throughout; of the other 20, one is SIGKILLed
# and replaced by a new process (new port, joining through node 0 and a random long-lived node)
# every second, for CHURN_S seconds. Long-lived nodes 0, 1 and 2 each broadcast 2 messages a second.
#   1. at every 1 s sample, the live nodes that are at least 3 s old are all in one component of
#      the active-view graph of the live nodes (a newer node may still be joining, and may relay);
#   2. every long-lived node delivers every message the long-lived nodes broadcast, exactly once
#      (within 15 s of the end); no node, long-lived or not, delivers anything twice;
#   3. no long-lived node's RSS grows after warm-up: at the end it is at most 1 MiB + 10 % above
#      its value at WARMUP_S (Plumtree's seen set lives 90 s, its payload cache 30 s: at 6 messages
#      a second both hold well under 100 KiB, so growth beyond that is a leak; runs longer than
#      the 90 s seen TTL (scripts/soak.sh) use a warm-up past it).
# Usage: churn_test.sh PATH/TO/plumcast   (env: CHURN_S [60], WARMUP_S [CHURN_S/3, at most 120])
set -u
PLUMCAST=$1
source "$(dirname "$0")/chaos.sh"
chaos_require

CHURN_S=${CHURN_S:-60}
WARMUP_S=${WARMUP_S:-$((CHURN_S / 3 > 120 ? 120 : CHURN_S / 3))}
NS="hyck$$"
ns_create "$NS"
NODE_ARGS=(--keepalive 200ms --shuffle-period 2s)
LONG=(0 1 2 3 4 5 6 7 8 9)
SENDERS=(0 1 2)
declare -a CHURNED=()  # the indexes of the live short-lived processes
NEXT=0                 # the next process index (and port 7000 + index)

# start_node: starts process NEXT (stdin FIFO for the senders), joining through node 0 and a
# random long-lived one (none for node 0).
start_node() {
  local i=$NEXT input=/dev/null joins=()
  NEXT=$((NEXT + 1))
  if [[ " ${SENDERS[*]} " == *" $i "* ]]; then open_input "$i"; input=$INPUT_FILE; fi
  if [ "$i" -gt 0 ]; then
    joins+=(--join "${IDS[0]}")
    local other=$((RANDOM % (i < 10 ? i : 10)))
    [ "$other" -gt 0 ] && joins+=(--join "${IDS[$other]}")
  fi
  start_in_ns "$i" "$NS" 127.0.0.1 $((7000 + i)) "$input" "$PLUMCAST" --name "n$i" "${NODE_ARGS[@]}" "${joins[@]}" ||
    { fail "node $i did not start"; exit 1; }
  LAST=$i
}

for ((k = 0; k < 30; k++)); do
  start_node
  [ "$LAST" -ge 10 ] && CHURNED+=("$LAST")
done
formed() { connected "${LONG[@]}" "${CHURNED[@]}" && [ "$(min_active "${LONG[@]}" "${CHURNED[@]}")" -ge 2 ]; }
wait_until 30 formed && ok "30 nodes: one component, every active view >= 2" ||
  { fail "the overlay did not form within 30 s"; show_views "${LONG[@]}" "${CHURNED[@]}"; exit 1; }

SENT=()
SEQ=0
SAMPLES=0
SPLIT=0
declare -A RSS0=()
start=$SECONDS
while [ $((SECONDS - start)) -lt "$CHURN_S" ]; do
  tick=$SECONDS
  # One kill and one replacement.
  pick=$((RANDOM % ${#CHURNED[@]}))
  kill_proc "${CHURNED[$pick]}"
  start_node
  CHURNED[$pick]=$LAST
  # Broadcasts: 2 per second from each sender.
  for s in "${SENDERS[@]}"; do
    SEQ=$((SEQ + 1)); say "$s" "m$SEQ-n$s"; SENT+=("m$SEQ-n$s")
  done
  # The sample: live nodes at least 3 s old.
  settled=("${LONG[@]}")
  for i in "${CHURNED[@]}"; do [ $((SECONDS - STARTED_AT[i])) -ge 3 ] && settled+=("$i"); done
  SAMPLES=$((SAMPLES + 1))
  c=$(components_holding "${settled[*]}" "${LONG[@]}" "${CHURNED[@]}")
  if [ "$c" -ne 1 ]; then
    SPLIT=$((SPLIT + 1))
    echo "  t=$((SECONDS - start)) s: $c components among ${#settled[@]} settled nodes"
    [ "$SPLIT" -le 2 ] && show_views "${settled[@]}" | head -40
  fi
  if [ $((SECONDS - start)) -ge "$WARMUP_S" ] && [ ${#RSS0[@]} -eq 0 ]; then
    for i in "${LONG[@]}"; do RSS0[$i]=$(rss_kib "$i"); done
  fi
  sleep 0.5
  for s in "${SENDERS[@]}"; do
    SEQ=$((SEQ + 1)); say "$s" "m$SEQ-n$s"; SENT+=("m$SEQ-n$s")
  done
  while [ "$SECONDS" -eq "$tick" ]; do sleep 0.05; done
done
echo "info - $CHURN_S s of churn: $((NEXT - 30)) processes killed and replaced, ${#SENT[@]} messages broadcast, $SAMPLES samples"
[ "$SPLIT" -eq 0 ] && ok "the settled nodes were one component at all $SAMPLES samples" ||
  fail "the settled nodes were split at $SPLIT of $SAMPLES samples"

end=$SECONDS
if wait_until 15 all_delivered "${LONG[*]}" "${SENT[@]}"; then
  ok "every long-lived node delivered all ${#SENT[@]} messages, $((SECONDS - end)) s after the churn ended"
else
  for i in "${LONG[@]}"; do
    m=$(missing "$i" "${SENT[@]}" | wc -l); [ "$m" -gt 0 ] && echo "  node $i misses $m: $(missing "$i" "${SENT[@]}" | head -5 | tr '\n' ' ')"
  done
  fail "messages never reached every long-lived node"
fi
for ((i = 0; i < NEXT; i++)); do
  d=$(duplicates "$i")
  [ -n "$d" ] && fail "node $i delivered twice: $(echo "$d" | head -3 | tr '\n' ' ')"
done
[ "$FAILURES" -eq 0 ] && ok "no node delivered a message twice"

line=""
for i in "${LONG[@]}"; do
  alive "$i" || fail "long-lived node $i died"
  line+=" $i:${RSS0[$i]:-0}->$(rss_kib "$i")"
done
echo "info - long-lived RSS (KiB) at ${WARMUP_S} s -> at the end:$line"
grown=""
for i in "${LONG[@]}"; do
  r0=${RSS0[$i]:-0} r1=$(rss_kib "$i")
  [ "$r1" -gt $((r0 + 1024 + r0 / 10)) ] && grown+=" node $i: $r0 -> $r1 KiB;"
done
rss_check "$([ -z "$grown" ] && echo 1)" "no long-lived node's RSS grew by more than 1 MiB + 10 % after ${WARMUP_S} s" \
  "RSS grew after warm-up (${WARMUP_S} s):$grown"

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
