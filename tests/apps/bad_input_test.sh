#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hostile input against a running `hypar node` (A) that has a cluster secret and two peers (B, C):
# connections sending random garbage, an oversized frame length, a truncated HELLO, a frame cut
# short, a HELLO with a wrong magic, a peer with another secret and a peer with no secret. For
# each, A must log a clear reason on stderr, stay up, keep B and C as active peers, and never let
# the intruders into its active or passive view. Also checks the exit codes of the command line
# (--help 0, bad arguments 2, port in use 1, unreadable secret file 2).
# The reasons grepped for are the node runtime's log texts (overlay/node/src/peer_connect.cpp,
# transport describe() functions).
# Usage: bad_input_test.sh PATH/TO/hypar
set -u
HYPAR=$1
source "$(dirname "$0")/procs.sh"
trap '' PIPE  # A closes on us mid-write: that must not kill this script

umask 077
head -c 24 /dev/urandom | base64 >"$WORK/secret"
head -c 24 /dev/urandom | base64 >"$WORK/other-secret"
NODE_ARGS=(--keepalive 200ms --status-every 300ms)
A=0 B=1 C=2 WRONG=3 NONE=4

start_proc $A /dev/null "$HYPAR" node --name A --secret-file "$WORK/secret" "${NODE_ARGS[@]}" || { fail "A did not start"; exit 1; }
start_proc $B /dev/null "$HYPAR" node --name B --secret-file "$WORK/secret" --join "127.0.0.1:${PORTS[$A]}" "${NODE_ARGS[@]}" ||
  { fail "B did not start"; exit 1; }
start_proc $C /dev/null "$HYPAR" node --name C --secret-file "$WORK/secret" --join "127.0.0.1:${PORTS[$A]}" "${NODE_ARGS[@]}" ||
  { fail "C did not start"; exit 1; }
PORT=${PORTS[$A]}
LOG=${ERRS[$A]}

# Exit codes of the command line itself.
expect_exit() {  # expect_exit CODE STDERR_PATTERN ARGS...
  local code=$1 pattern=$2 err rc; shift 2
  err=$(timeout 10 "$HYPAR" "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -eq "$code" ] && grep -q -- "$pattern" <<<"$err"; then
    ok "hypar $* -> exit $code"
  else
    fail "hypar $*: exit $rc (expected $code), stderr: $err"
  fi
}
expect_exit 0 "" --help
expect_exit 2 "usage: hypar node" node --listen 127.0.0.1:notaport
expect_exit 2 "bad duration" node --listen 127.0.0.1:1 --keepalive 5x
expect_exit 1 "cannot listen on 127.0.0.1:$PORT" node --listen "127.0.0.1:$PORT"
expect_exit 2 "cannot read $WORK/missing" node --listen 127.0.0.1:1 --secret-file "$WORK/missing"

a_has_both_peers() {
  local active
  active=$(last_view $A active)
  grep -qx "127.0.0.1:${PORTS[$B]}" <<<"$active" && grep -qx "127.0.0.1:${PORTS[$C]}" <<<"$active"
}
if wait_until 15 a_has_both_peers; then ok "A has B and C as active peers"; else fail "A never had B and C as active peers"; exit 1; fi

# send_raw PRINTF_FORMAT: one connection to A that sends the bytes and closes.
send_raw() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
    printf "$1" >&3
    # Read what A sends (its HELLO) before closing: closing with unread bytes would send a TCP
    # reset instead of an orderly end of stream.
    read -r -t 0.3 -N 4096 -u 3 _
    exec 3>&-
  ) 2>/dev/null
}
count() { grep -cE -- "$1" "$LOG"; }  # extended regex
# attack NAME EXPECTED_LOG_TEXT PRINTF_FORMAT: sends, then waits (5 s at most) for a new log
# line with the expected text, and checks that A is still up.
attack() {
  local name=$1 text=$2 before
  before=$(count "$text")
  send_raw "$3"
  if wait_until 5 eval '[ "$(count "$text")" -gt "$before" ]'; then
    ok "$name: A logged \"$text\""
  else
    fail "$name: A did not log \"$text\" within 5 s"; tail -5 "$LOG" | sed 's/^/    /'
  fi
  alive $A || { fail "$name: A died"; exit 1; }
}

# Random garbage: whatever its first 4 bytes say, the connection is refused before any HELLO.
garbage=$(head -c 200 /dev/urandom | od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/ \([0-9a-f][0-9a-f]\)/\\x\1/g')
attack "random garbage" "refused connection from" "$garbage"
attack "oversized frame length" "frame longer than the maximum frame size" '\xff\xff\xff\xff'
# A whole frame holding only [type 0x00]["HYPR"][version 2]: the PeerId is missing.
attack "truncated HELLO" "truncated HELLO" '\x00\x00\x00\x06\x00HYPR\x02'
# A frame header announcing 55 bytes, 10 of them sent, then the connection closes.
attack "frame cut short, then close" "closed before its HELLO" '\x00\x00\x00\x37\x00HYPR\x02\x04\x7f\x00'
# A HELLO-sized frame with "XYZW" instead of "HYPR".
zeros=$(printf '\\x00%.0s' $(seq 49))
attack "wrong magic" "bad HELLO magic" "\\x00\\x00\\x00\\x37\\x00XYZW\\x01$zeros"
attack "a frame of length 0" "frame of length 0" '\x00\x00\x00\x00'

# Peers that are refused during the handshake: another secret, and no secret at all.
start_proc $WRONG /dev/null "$HYPAR" node --name wrong --secret-file "$WORK/other-secret" \
  --join "127.0.0.1:${PORTS[$A]}" --join "127.0.0.1:${PORTS[$B]}" "${NODE_ARGS[@]}" || { fail "the wrong-secret node did not start"; exit 1; }
start_proc $NONE /dev/null "$HYPAR" node --name none --join "127.0.0.1:${PORTS[$A]}" "${NODE_ARGS[@]}" ||
  { fail "the secret-less node did not start"; exit 1; }
if wait_until 10 grep -q "wrong cluster secret" "$LOG"; then ok "A logged \"wrong cluster secret\""; else fail "A did not log \"wrong cluster secret\""; fi
if wait_until 10 grep -q "lacks the cluster secret" "$LOG"; then ok "A logged \"lacks the cluster secret\""; else fail "A did not log \"lacks the cluster secret\""; fi
if wait_until 10 has_line "${OUTS[$WRONG]}" '"event":"join_failed"'; then
  ok "the wrong-secret node could not join"
else
  fail "the wrong-secret node printed no join_failed"
fi
# Watch until the wrong-secret node's background re-join was refused again (its first join was the
# first refusal) and A printed three more status lines: the intruders have had their second try.
statuses=$(status_count $A)
retried() {
  [ "$(grep -c "wrong cluster secret" "$LOG")" -ge 2 ] && [ "$(status_count $A)" -ge $((statuses + 3)) ]
}
if wait_until 15 retried; then ok "the intruders' re-joins were refused too"; else fail "no second refusal of the wrong-secret node within 15 s"; fi

alive $A || fail "A died"
intruders=("127.0.0.1:${PORTS[$WRONG]}" "127.0.0.1:${PORTS[$NONE]}")
for x in "${intruders[@]}"; do
  if grep '"event":"status"' "${OUTS[$A]}" | grep -qF "\"$x\""; then
    fail "intruder $x appeared in A's views"; grep -F "\"$x\"" "${OUTS[$A]}" | head -3
  fi
  if grep -qF "\"peer\":\"$x\"" "${OUTS[$A]}"; then fail "A reported a link with intruder $x"; fi
done
[ "$FAILURES" -eq 0 ] && ok "no intruder ever appeared in A's active or passive view"
if a_has_both_peers; then ok "A's latest status still shows B and C"; else fail "A lost B or C: $(last_view $A active | tr '\n' ' ')"; fi

before=$FAILURES
stop_all_gracefully $A $B $C
[ "$FAILURES" -eq "$before" ] && ok "A, B and C left gracefully"

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
echo "all checks passed"
