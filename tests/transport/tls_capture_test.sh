#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What TLS hides on the wire: the same broadcast over 3 `plumcast` processes on 127.0.0.1 is
# captured on lo with tcpdump (only the nodes' listen ports, at most 30 s), once over TLS and once
# in plaintext. The payload string must be absent from the TLS capture (which carries TLS
# application-data records) and present in the plaintext one: the comparison has teeth.
# Needs tcpdump and root or CAP_NET_RAW: otherwise exit 77 (a ctest SKIP); also 77 without openssl.
# Usage: tls_capture_test.sh PATH/TO/plumcast PATH/TO/make_tls_certs.sh
set -u
PLUMCAST=$1
CERTS=$2
source "$(dirname "$0")/../apps/procs.sh"

command -v tcpdump >/dev/null || { echo "SKIPPED: no tcpdump (scripts/install-deps.sh installs it)"; exit 77; }
timeout 3 tcpdump -i lo -c 1 -w /dev/null 'tcp port 9' >"$WORK/probe" 2>&1 &
probe=$!
sleep 1
if ! kill -0 "$probe" 2>/dev/null && grep -qi "permission\|not permitted" "$WORK/probe"; then
  echo "SKIPPED: tcpdump cannot capture here (needs root or CAP_NET_RAW): $(head -1 "$WORK/probe")"; exit 77
fi
wait "$probe" 2>/dev/null
bash "$CERTS" "$WORK/pki" >/dev/null
status=$?
[ "$status" -eq 77 ] && exit 77
[ "$status" -eq 0 ] || { fail "make_tls_certs.sh failed"; exit 1; }
P=$WORK/pki
MARK="capture-payload-$RANDOM$RANDOM"
NEXT=0

# run MODE (tls|plain): 3 nodes, a capture of their ports, 10 lines broadcast; the capture's path
# is left in CAPTURE.
run() {
  local mode=$1 i first=$NEXT
  local -a tls=() joins=()
  [ "$mode" = tls ] && tls=(--tls-cert "$P/node.pem" --tls-key "$P/node.key" --tls-ca "$P/ca.pem")
  mkfifo "$WORK/in-$mode"
  exec 7<>"$WORK/in-$mode"
  for ((i = first; i < first + 3; i++)); do
    joins=()
    [ "$i" -gt "$first" ] && joins=(--join "${IDS[$first]}")
    local input=/dev/null
    [ "$i" -eq "$first" ] && input=$WORK/in-$mode
    start_proc "$i" "$input" "$PLUMCAST" --name "$mode$i" --keepalive 500ms "${tls[@]}" "${joins[@]}" ||
      { fail "$mode$i could not start"; exit 1; }
  done
  NEXT=$((first + 3))
  CAPTURE=$WORK/$mode.pcap
  echo "# $mode: capturing ports ${PORTS[$first]} ${PORTS[$((first + 1))]} ${PORTS[$((first + 2))]} (${IDS[*]})"
  timeout 30 tcpdump -i lo --immediate-mode -U -s 0 -w "$CAPTURE" \
    "tcp and (port ${PORTS[$first]} or port ${PORTS[$((first + 1))]} or port ${PORTS[$((first + 2))]})" \
    2>"$WORK/tcpdump-$mode.err" &
  local capture=$!
  HELPER_PIDS+=("$capture")
  wait_until 10 has_line "$WORK/tcpdump-$mode.err" "listening on" || { fail "tcpdump did not start"; exit 1; }
  wait_overlay 20 $(seq "$first" $((first + 2)))
  for ((k = 1; k <= 10; k++)); do echo "$MARK line $k"; done >&7
  delivered() {
    local j
    for ((j = first; j < first + 3; j++)); do [ "$(grep -c "$MARK line" "${OUTS[$j]}")" -ge 10 ] || return 1; done
  }
  wait_until 20 delivered && ok "$mode: the 3 nodes delivered the 10 lines" || fail "$mode: the lines were not delivered"
  sleep 0.5
  kill -INT "$capture" 2>/dev/null
  wait "$capture" 2>/dev/null
  stop_all_gracefully $(seq "$first" $((first + 2)))
  exec 7>&-
}

run tls
tls_capture=$CAPTURE
run plain
plain_capture=$CAPTURE

in_tls=$(grep -a -c "$MARK" "$tls_capture")
in_plain=$(grep -a -c "$MARK" "$plain_capture")
records=$(LC_ALL=C grep -a -c -P '\x17\x03\x03' "$tls_capture")
[ "$in_plain" -gt 0 ] && ok "plaintext: the payload is on the wire ($in_plain packets)" ||
  fail "plaintext: the payload is not in the capture (the capture caught nothing?)"
[ "$records" -gt 0 ] && ok "TLS: the capture holds TLS application-data records" || fail "TLS: no TLS records captured"
[ "$in_tls" -eq 0 ] && ok "TLS: the payload is not on the wire" || fail "TLS: the payload is in $in_tls captured packets"
[ "$FAILURES" -eq 0 ] && echo "PASS" || { echo "FAILED ($FAILURES)"; exit 1; }
