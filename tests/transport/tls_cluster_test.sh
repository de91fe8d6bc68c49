#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS across `plumcast` processes on 127.0.0.1, with a PKI made now (make_tls_certs.sh):
#   1. 5 nodes with certificates of the test CA (and --tls-verify-name) form one overlay and
#      every node delivers every line node 0 broadcasts;
#   2. a node with a certificate of a foreign CA, one with an expired certificate and a plaintext
#      node never get a link; the cluster logs why (unknown CA, expired, plaintext peer) and the
#      plaintext node logs that it met a TLS peer;
#   3. rotation: a node whose certificate comes from a new CA is refused; each cluster node's CA
#      file then gets the new CA too and the node is sent SIGHUP: the new node is admitted, and no
#      link of the cluster failed meanwhile.
# Usage: tls_cluster_test.sh PATH/TO/plumcast PATH/TO/make_tls_certs.sh. Exit 77 without openssl.
set -u
PLUMCAST=$1
CERTS=$2
source "$(dirname "$0")/../apps/procs.sh"

bash "$CERTS" "$WORK/pki" >/dev/null
status=$?
[ "$status" -eq 77 ] && exit 77
[ "$status" -eq 0 ] || { fail "make_tls_certs.sh failed"; exit 1; }
P=$WORK/pki
N=5
NODE_ARGS=(--keepalive 500ms --shuffle-period 2s --handshake-timeout 2s --log-level info)
tls_args() {  # tls_args CERT CA_FILE
  printf '%s\n' --tls-cert "$P/$1.pem" --tls-key "$P/$1.key" --tls-ca "$2"
}

mkfifo "$WORK/in0"
exec 7<>"$WORK/in0"
for ((i = 0; i < N; i++)); do
  cp "$P/ca.pem" "$WORK/ca-$i.pem"
  mapfile -t tls < <(tls_args node "$WORK/ca-$i.pem")
  joins=()
  [ "$i" -gt 0 ] && joins+=(--join "${IDS[0]}")
  [ "$i" -gt 1 ] && joins+=(--join "${IDS[$((i - 1))]}")
  input=/dev/null
  [ "$i" -eq 0 ] && input=$WORK/in0
  start_proc "$i" "$input" "$PLUMCAST" --name "t$i" "${NODE_ARGS[@]}" "${tls[@]}" --tls-verify-name "${joins[@]}" ||
    { fail "t$i could not start"; exit 1; }
done
ALL=($(seq 0 $((N - 1))))
grep -q "+tls transport" "${ERRS[0]}" && ok "the nodes run over TLS ($(grep -o '[a-z]*+tls' "${ERRS[0]}" | head -1))" ||
  fail "node 0 does not say it runs over TLS"
wait_overlay 30 "${ALL[@]}"

for ((k = 1; k <= 20; k++)); do echo "secret payload $k"; done >&7
delivered_all() {
  local i
  for i in "${ALL[@]}"; do [ "$(grep -c '"data":"secret payload' "${OUTS[$i]}")" -ge 20 ] || return 1; done
}
wait_until 30 delivered_all && ok "every TLS node delivered the 20 lines broadcast by node 0" ||
  { fail "not every node delivered the 20 lines"; for i in "${ALL[@]}"; do echo "  $i: $(grep -c '"data":"secret payload' "${OUTS[$i]}")"; done; }

cluster_log() { cat "${ERRS[@]:0:$N}"; }
# Links lost to a failure (evicted: the protocol made room for a newcomer, not a broken link).
links_down() { cat "${OUTS[@]:0:$N}" | grep '"event":"link_down"' | grep -c '"reason":"\(failed\|timed_out\)"'; }

# refused INDEX WHAT CLUSTER_SAYS: process INDEX (joining node 0) never links, the cluster logs CLUSTER_SAYS.
refused() {
  local i=$1 what=$2 says=$3
  if wait_until 20 eval "cluster_log | grep -q \"$says\"" && wait_until 15 has_line "${OUTS[$i]}" '"event":"join_failed"'; then
    ok "$what is refused (the cluster logs \"$says\")"
  else
    fail "$what: no refusal \"$says\" in the cluster's log, or no join_failed"
    tail -3 "${ERRS[$i]}"
  fi
  sleep 1
  has_line "${OUTS[$i]}" '"event":"link_up"' && fail "$what got a link"
  local c
  for c in "${ALL[@]}"; do has_line "${OUTS[$c]}" "\"peer\":\"${IDS[$i]}\"" && fail "$what appears in node $c's links"; done
  stop_all_gracefully "$i"
}

mapfile -t tls < <(tls_args foreign "$P/ca.pem")
start_proc 10 /dev/null "$PLUMCAST" --name foreign "${NODE_ARGS[@]}" "${tls[@]}" --join "${IDS[0]}" || fail "no foreign node"
refused 10 "a node with a foreign CA's certificate" "unknown CA"
has_line "${ERRS[10]}" "alert unknown ca" && ok "the foreign node logs the cluster's alert (unknown ca)" ||
  fail "the foreign node does not log why it was refused"

mapfile -t tls < <(tls_args expired "$P/ca.pem")
start_proc 11 /dev/null "$PLUMCAST" --name expired "${NODE_ARGS[@]}" "${tls[@]}" --join "${IDS[0]}" || fail "no expired node"
refused 11 "a node with an expired certificate" "expired (certificate has expired)"

start_proc 12 /dev/null "$PLUMCAST" --name plain "${NODE_ARGS[@]}" --join "${IDS[0]}" || fail "no plaintext node"
refused 12 "a plaintext node" "plaintext peer"
wait_until 10 has_line "${ERRS[12]}" "TLS peer" && ok "the plaintext node logs that it met a TLS peer" ||
  { fail "the plaintext node does not name the TLS peer"; tail -3 "${ERRS[12]}"; }

# Rotation: a certificate from a new CA, refused until every node trusts that CA too.
down_before=$(links_down)
mapfile -t tls < <(tls_args new "$P/both-ca.pem")
start_proc 13 /dev/null "$PLUMCAST" --name rotated "${NODE_ARGS[@]}" "${tls[@]}" --join "${IDS[0]}" --join "${IDS[1]}" ||
  fail "no rotated node"
wait_until 15 has_line "${OUTS[13]}" '"event":"join_failed"' && ok "a node with the new CA's certificate is refused before the reload" ||
  fail "the new CA's node was not refused before the reload"
has_line "${OUTS[13]}" '"event":"link_up"' && fail "the new CA's node linked before the reload"
for i in "${ALL[@]}"; do
  cp "$P/both-ca.pem" "$WORK/ca-$i.pem"
  kill -HUP "${PIDS[$i]}"
done
reloaded() { [ "$(cluster_log | grep -c 'TLS certificate, key and CA reloaded')" -ge "$N" ]; }
wait_until 10 reloaded && ok "every node logs its TLS reload on SIGHUP" || fail "not every node logged a TLS reload"
wait_until 30 has_line "${OUTS[13]}" '"event":"link_up"' && ok "after SIGHUP the new CA's node is admitted" ||
  { fail "the new CA's node was not admitted after the reload"; tail -5 "${ERRS[13]}"; }
[ "$(links_down)" -eq "$down_before" ] && ok "no cluster link failed across the reload" ||
  fail "$(($(links_down) - down_before)) cluster links failed across the reload"
for i in "${ALL[@]}"; do alive "$i" || fail "node $i exited"; done

stop_all_gracefully "${ALL[@]}" 13
[ "$FAILURES" -eq 0 ] && echo "PASS" || { echo "FAILED ($FAILURES)"; exit 1; }
