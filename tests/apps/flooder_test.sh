#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The flooding broadcaster over real TCP on 127.0.0.1:
#   1. 10 flooder processes (i joins through 0, then i-1); process 0 broadcasts 50 lines read on
#      stdin; every process delivers each of them exactly once;
#   2. 2 processes are SIGKILLed; process 4 broadcasts 20 more lines at once; every survivor
#      delivers each of them exactly once;
#   3. SIGTERM: every survivor prints {"event":"left"} and exits 0.
# Usage: flooder_test.sh PATH/TO/flooder
set -u
FLOODER=$1
source "$(dirname "$0")/procs.sh"

N=10
SENDER_1=0
SENDER_2=4
KILL=(3 7)

# The two senders read stdin from FIFOs that this script holds open read-write (so that opening
# them never blocks and they never reach end of file while the test runs).
mkfifo "$WORK/in0" "$WORK/in4"
exec 7<>"$WORK/in0" 8<>"$WORK/in4"

INPUT[$SENDER_1]="$WORK/in0"
INPUT[$SENDER_2]="$WORK/in4"
start_chain "$N" f "$FLOODER" ${FLOODER_TEST_ARGS:-}
ALL=($(seq 0 $((N - 1))))
wait_overlay 20 "${ALL[@]}"  # before the first broadcast

# deliveries INDEX ORIGIN_PORT: the sequence numbers process INDEX delivered from that origin.
deliveries() { grep '"event":"deliver"' "${OUTS[$1]}" | grep -F "\"origin\":\"127.0.0.1:$2\"" | sed 's/.*"seq":\([0-9]*\).*/\1/'; }
# all_delivered COUNT ORIGIN_PORT INDEX...: each process delivered COUNT messages from the origin.
all_delivered() {
  local count=$1 origin=$2 i; shift 2
  for i in "$@"; do [ "$(deliveries "$i" "$origin" | wc -l)" -ge "$count" ] || return 1; done
}
# check_exactly_once FIRST LAST ORIGIN_PORT INDEX...: every process delivered seq FIRST..LAST from
# the origin, each exactly once, and nothing else from it.
check_exactly_once() {
  local first=$1 last=$2 origin=$3 i got want; shift 3
  want=$(seq "$first" "$last")
  for i in "$@"; do
    got=$(deliveries "$i" "$origin" | sort -n)
    if [ "$got" != "$want" ]; then
      fail "flooder $i delivered from $origin: $(echo $got | wc -w) messages (expected seq $first..$last once each)"
      echo "    duplicates: $(echo "$got" | uniq -d | tr '\n' ' ')"
      echo "    missing: $(comm -13 <(echo "$got" | sort) <(echo "$want" | sort) | tr '\n' ' ')"
    fi
  done
}

# Phase 1: 50 lines from process 0, one of them with characters JSON must escape.
{
  for ((k = 1; k <= 49; k++)); do echo "line $k from f0"; done
  printf '%s\n' 'quote " backslash \ tab	end'
} >&7
if wait_until 20 all_delivered 50 "${PORTS[$SENDER_1]}" "${ALL[@]}"; then
  check_exactly_once 1 50 "${PORTS[$SENDER_1]}" "${ALL[@]}"
  [ "$FAILURES" -eq 0 ] && ok "all $N flooders delivered the 50 messages exactly once"
else
  fail "not every flooder delivered 50 messages within 20 s"
  check_exactly_once 1 50 "${PORTS[$SENDER_1]}" "${ALL[@]}"
fi
expected_json='"seq":50,"data":"quote \" backslash \\ tab\tend"'
if grep -qF "$expected_json" "${OUTS[5]}"; then ok "delivered data is JSON-escaped"; else fail "no deliver line with $expected_json"; grep '"seq":50' "${OUTS[5]}"; fi

# Phase 2: crash two processes, then broadcast 20 lines from another one right away.
for i in "${KILL[@]}"; do
  kill -KILL "${PIDS[$i]}"; wait "${PIDS[$i]}" 2>/dev/null; PIDS[$i]=""
done
SURVIVORS=()
for i in "${ALL[@]}"; do [ -n "${PIDS[$i]}" ] && SURVIVORS+=("$i"); done
ok "killed flooders ${KILL[*]}"
for ((k = 1; k <= 20; k++)); do echo "after the crash $k"; done >&8
if wait_until 20 all_delivered 20 "${PORTS[$SENDER_2]}" "${SURVIVORS[@]}"; then
  before=$FAILURES
  check_exactly_once 1 20 "${PORTS[$SENDER_2]}" "${SURVIVORS[@]}"
  [ "$FAILURES" -eq "$before" ] && ok "all ${#SURVIVORS[@]} survivors delivered the 20 new messages exactly once"
else
  fail "not every survivor delivered the 20 messages within 20 s"
  check_exactly_once 1 20 "${PORTS[$SENDER_2]}" "${SURVIVORS[@]}"
fi
# Nobody delivered anything twice from process 0 meanwhile (history re-sends are filtered).
check_exactly_once 1 50 "${PORTS[$SENDER_1]}" "${SURVIVORS[@]}"

before=$FAILURES
stop_all_gracefully "${SURVIVORS[@]}"
[ "$FAILURES" -eq "$before" ] && ok "every survivor left gracefully and exited 0"
# Every process has exited, so its output is final: "exactly once" now covers the whole run, late
# duplicates included, without waiting for them.
before=$FAILURES
check_exactly_once 1 50 "${PORTS[$SENDER_1]}" "${ALL[@]}"
check_exactly_once 1 20 "${PORTS[$SENDER_2]}" "${SURVIVORS[@]}"
[ "$FAILURES" -eq "$before" ] && ok "over the whole run, every flooder delivered every message exactly once"
exec 7>&- 8>&-

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
echo "all checks passed"
