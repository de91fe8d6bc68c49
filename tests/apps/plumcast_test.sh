#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Plumtree broadcast between real processes over TCP on 127.0.0.1:
#   1. 10 plumcast processes (i joins through 0, then i-1); process 0 broadcasts 100 lines read
#      on stdin; every process delivers each of them exactly once, JSON-escaped;
#   2. 3 processes are SIGKILLed; process 4 broadcasts 20 more lines at once; every survivor
#      delivers each of them exactly once;
#   3. SIGTERM: every survivor prints {"event":"left"} and exits 0.
# Usage: plumcast_test.sh PATH/TO/plumcast
set -u
PLUMCAST=$1
source "$(dirname "$0")/procs.sh"

N=10
SENDER_1=0
SENDER_2=4
KILL=(2 5 8)

# The senders read stdin from FIFOs that this script holds open read-write (so that opening
# them never blocks and they never reach end of file while the test runs).
mkfifo "$WORK/in0" "$WORK/in4"
exec 7<>"$WORK/in0" 8<>"$WORK/in4"

INPUT[$SENDER_1]="$WORK/in0"
INPUT[$SENDER_2]="$WORK/in4"
start_chain "$N" p "$PLUMCAST"
ALL=($(seq 0 $((N - 1))))
wait_overlay 20 "${ALL[@]}"  # before the first broadcast

# delivered INDEX ORIGIN_PORT: the data of every message process INDEX delivered from that origin,
# one per line, sorted (duplicates kept).
delivered() {
  grep '"event":"deliver"' "${OUTS[$1]}" | grep -F "\"origin\":\"127.0.0.1:$2\"" |
    sed 's/.*"data":"\(.*\)"}$/\1/' | sort
}
# all_delivered COUNT ORIGIN_PORT INDEX...: each process delivered COUNT messages from the origin.
all_delivered() {
  local count=$1 origin=$2 i; shift 2
  for i in "$@"; do [ "$(delivered "$i" "$origin" | wc -l)" -ge "$count" ] || return 1; done
}
# check_exactly_once EXPECTED_FILE ORIGIN_PORT INDEX...: every process delivered each line of
# EXPECTED_FILE (JSON-escaped data, sorted) from the origin exactly once, and nothing else.
check_exactly_once() {
  local expected=$1 origin=$2 i got; shift 2
  for i in "$@"; do
    got=$(delivered "$i" "$origin")
    if [ "$got" != "$(cat "$expected")" ]; then
      fail "process $i delivered $(echo "$got" | grep -c .) messages from $origin (expected $(wc -l <"$expected") once each)"
      echo "    duplicates: $(echo "$got" | uniq -d | head -5 | tr '\n' '|')"
      echo "    missing: $(comm -13 <(echo "$got") "$expected" | head -5 | tr '\n' '|')"
    fi
  done
}
# Hop counts: 0 at the origin, at least 1 everywhere else.
check_hops() {
  local origin_index=$1 i; shift
  for i in "$@"; do
    local bad
    if [ "$i" -eq "$origin_index" ]; then
      bad=$(grep '"event":"deliver"' "${OUTS[$i]}" | grep -F "\"origin\":\"127.0.0.1:${PORTS[$i]}\"" | grep -vc '"hops":0,')
    else
      bad=$(grep '"event":"deliver"' "${OUTS[$i]}" | grep -F "\"origin\":\"127.0.0.1:${PORTS[$origin_index]}\"" | grep -c '"hops":0,')
    fi
    [ "$bad" -eq 0 ] || fail "process $i: $bad deliveries with a wrong hop count"
  done
}

# Phase 1: 100 lines from process 0, one of them with characters JSON must escape.
{
  for ((k = 1; k <= 99; k++)); do echo "line $k from p0"; done
  printf '%s\n' 'quote " backslash \ tab	end'
} >&7
{
  for ((k = 1; k <= 99; k++)); do echo "line $k from p0"; done
  printf '%s\n' 'quote \" backslash \\ tab\tend'
} | sort >"$WORK/expected1"
if wait_until 30 all_delivered 100 "${PORTS[$SENDER_1]}" "${ALL[@]}"; then
  before=$FAILURES
  check_exactly_once "$WORK/expected1" "${PORTS[$SENDER_1]}" "${ALL[@]}"
  check_hops "$SENDER_1" "${ALL[@]}"
  [ "$FAILURES" -eq "$before" ] && ok "all $N processes delivered the 100 lines exactly once, JSON-escaped"
else
  fail "not every process delivered 100 lines within 30 s"
  check_exactly_once "$WORK/expected1" "${PORTS[$SENDER_1]}" "${ALL[@]}"
fi

# Phase 2: crash three processes, then broadcast 20 lines from another one right away.
for i in "${KILL[@]}"; do
  kill -KILL "${PIDS[$i]}"; wait "${PIDS[$i]}" 2>/dev/null; PIDS[$i]=""
done
SURVIVORS=()
for i in "${ALL[@]}"; do [ -n "${PIDS[$i]}" ] && SURVIVORS+=("$i"); done
ok "killed processes ${KILL[*]}"
for ((k = 1; k <= 20; k++)); do echo "after the crash $k"; done >&8
for ((k = 1; k <= 20; k++)); do echo "after the crash $k"; done | sort >"$WORK/expected2"
if wait_until 30 all_delivered 20 "${PORTS[$SENDER_2]}" "${SURVIVORS[@]}"; then
  before=$FAILURES
  check_exactly_once "$WORK/expected2" "${PORTS[$SENDER_2]}" "${SURVIVORS[@]}"
  [ "$FAILURES" -eq "$before" ] && ok "all ${#SURVIVORS[@]} survivors delivered the 20 new lines exactly once"
else
  fail "not every survivor delivered the 20 lines within 30 s"
  check_exactly_once "$WORK/expected2" "${PORTS[$SENDER_2]}" "${SURVIVORS[@]}"
fi
# Nothing from process 0 was delivered again meanwhile.
check_exactly_once "$WORK/expected1" "${PORTS[$SENDER_1]}" "${SURVIVORS[@]}"

before=$FAILURES
stop_all_gracefully "${SURVIVORS[@]}"
[ "$FAILURES" -eq "$before" ] && ok "every survivor left gracefully and exited 0"
# Every process has exited, so its output is final: "exactly once" now covers the whole run, late
# duplicates included, without waiting for them.
before=$FAILURES
check_exactly_once "$WORK/expected1" "${PORTS[$SENDER_1]}" "${ALL[@]}"
check_exactly_once "$WORK/expected2" "${PORTS[$SENDER_2]}" "${SURVIVORS[@]}"
[ "$FAILURES" -eq "$before" ] && ok "over the whole run, every process delivered every line exactly once"
exec 7>&- 8>&-

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
echo "all checks passed"
