#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Contacts found through DNS, served by a real dnsmasq, all inside a network namespace this test
# creates (its /etc/netns/NS/resolv.conf points the resolver at the dnsmasq there):
#   1. --join-srv: every SRV target is a contact, lowest priority first (the first is dead);
#   2. --join NAME:PORT resolves the name (an A record);
#   3. an unknown name is reported as "resolve: ..."; once the name exists, the node joins by itself;
#   4. a name re-resolved at every re-join: it first points at a dead address, then (dnsmasq
#      reloaded) at the seed, and the node joins;
#   5. an SRV name queried again at every re-join: absent at first, then served (dnsmasq
#      restarted with the record), and the node joins.
# Skipped (exit 77) without root, ip netns or dnsmasq.
# Usage: hypar_discovery_test.sh PATH/TO/hypar
set -u
HYPAR=$1
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespace)"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip command"; exit 77; }
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || { echo "SKIP: no dnsmasq (scripts/install-deps.sh installs dnsmasq-base)"; exit 77; }

source "$(dirname "$0")/procs.sh"
NS="hypar-disc-$$"
ip netns add "$NS" 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
ns_cleanup() {
  [ -n "${DNS_PID:-}" ] && kill -KILL "$DNS_PID" 2>/dev/null && wait "$DNS_PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "/etc/netns/$NS"
}
trap 'cleanup; ns_cleanup' EXIT
in_ns() { ip netns exec "$NS" "$@"; }

in_ns ip link set lo up
mkdir -p "/etc/netns/$NS"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"/etc/netns/$NS/resolv.conf"
printf '127.0.0.1 localhost\n' >"/etc/netns/$NS/hosts"

SEED_PORT=7001
DEAD_PORT=7002
write_names() {  # write_names MOVING_IP [EXTRA LINE]
  { echo "127.0.0.1 probe.hypar.test"; echo "127.0.0.1 seed.hypar.test"; echo "127.0.0.1 dead.hypar.test"; echo "$1 moving.hypar.test"; echo "${2:-}"; } \
    >"$WORK/names"
  chmod a+r "$WORK/names"
}
write_names 127.0.0.9
chmod a+rx "$WORK"  # dnsmasq reads its hosts file as an unprivileged user
# (ip netns exec, not in_ns: `ip` execs the program, so $! is its pid.)
start_dns() {  # start_dns [EXTRA DNSMASQ ARGS]
  ip netns exec "$NS" "$DNSMASQ" --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts --local=/hypar.test/ --addn-hosts="$WORK/names" --pid-file= \
    --log-facility="$WORK/dnsmasq.log" --log-queries \
    --srv-host=_hypar._tcp.hypar.test,dead.hypar.test,$DEAD_PORT,10,0 \
    --srv-host=_hypar._tcp.hypar.test,seed.hypar.test,$SEED_PORT,20,0 "$@" &
  DNS_PID=$!
  wait_until 10 dns_up || { fail "dnsmasq did not answer"; cat "$WORK/dnsmasq.log"; exit 1; }
}
dns_up() { in_ns getent hosts probe.hypar.test >/dev/null; }
start_dns
ok "dnsmasq serving hypar.test in namespace $NS"

NODE_ARGS=(--keepalive 200ms --status-every 300ms)
# run INDEX ARGS...: hypar node in the namespace; waits for its listening line.
run() {
  local i=$1; shift
  OUTS[$i]="$WORK/$i.out"
  ERRS[$i]="$WORK/$i.err"
  ip netns exec "$NS" "$HYPAR" node "$@" "${NODE_ARGS[@]}" </dev/null >"${OUTS[$i]}" 2>"${ERRS[$i]}" &
  PIDS[$i]=$!
  wait_until 10 proc_ready "${PIDS[$i]}" "${OUTS[$i]}" && has_line "${OUTS[$i]}" '"event":"listening"' ||
    { fail "node $i did not start: $(head -3 "${ERRS[$i]}")"; return 1; }
}
joined_seed() { has_line "${OUTS[$1]}" "\"event\":\"joined\",\"contact\":\"127.0.0.1:$SEED_PORT\""; }

run 0 --listen "127.0.0.1:$SEED_PORT" --name seed || exit 1

# 1. SRV: the dead target (priority 10) is tried first, then the seed (priority 20).
run 1 --listen 127.0.0.1:7011 --join-srv _hypar._tcp.hypar.test --log-level debug
if wait_until 10 joined_seed 1; then
  ok "--join-srv: joined the seed through its SRV record"
else
  fail "--join-srv: $(grep join "${OUTS[1]}" | head -2)"; tail -5 "${ERRS[1]}"
fi
if grep -q "connect to 127.0.0.1:$DEAD_PORT failed: refused" "${ERRS[1]}"; then
  ok "the target of priority 10 (dead) was tried before the one of priority 20"
else
  fail "the dead SRV target was never tried"
fi

# 2. A name.
run 2 --listen 127.0.0.1:7012 --join "seed.hypar.test:$SEED_PORT"
wait_until 10 joined_seed 2 && ok "--join seed.hypar.test:$SEED_PORT joined" || fail "--join by name did not join"

# 3. An unknown name: reported, then joined once it exists.
run 3 --listen 127.0.0.1:7013 --join "later.hypar.test:$SEED_PORT"
if wait_until 10 has_line "${OUTS[3]}" '"reason":"resolve: '; then
  ok "unknown name: $(grep join_failed "${OUTS[3]}")"
else
  fail "unknown name: $(grep join "${OUTS[3]}")"
fi

# 5. An SRV name that does not exist yet.
run 5 --listen 127.0.0.1:7015 --join-srv _later._tcp.hypar.test
if wait_until 10 has_line "${OUTS[5]}" '"reason":"resolve: '; then
  ok "unknown SRV name: $(grep join_failed "${OUTS[5]}")"
else
  fail "unknown SRV name: $(grep join "${OUTS[5]}")"
fi

# 4. A name pointing at a dead address at first.
run 4 --listen 127.0.0.1:7014 --join "moving.hypar.test:$SEED_PORT"
if wait_until 10 has_line "${OUTS[4]}" '"reason":"refused"'; then
  ok "moving name, first answer: $(grep join_failed "${OUTS[4]}")"
else
  fail "moving name: $(grep join "${OUTS[4]}")"
fi

write_names 127.0.0.1 "127.0.0.1 later.hypar.test"
kill -HUP "$DNS_PID"  # dnsmasq reads its hosts file again
in_active() { last_view "$1" active | grep -qx "127.0.0.1:$SEED_PORT"; }
wait_until 15 in_active 4 && ok "the re-join resolved moving.hypar.test again and joined" ||
  { fail "node 4 never joined after the name moved"; tail -5 "${ERRS[4]}"; }
wait_until 15 in_active 3 && ok "the node whose name did not exist joined once it did" ||
  { fail "node 3 never joined after its name appeared"; tail -5 "${ERRS[3]}"; }

kill -TERM "$DNS_PID"; wait "$DNS_PID" 2>/dev/null
start_dns --srv-host=_later._tcp.hypar.test,seed.hypar.test,$SEED_PORT
wait_until 15 in_active 5 && ok "the SRV name was queried again at a re-join: node 5 joined once it existed" ||
  { fail "node 5 never joined after its SRV record appeared"; tail -5 "${ERRS[5]}"; }

[ "$FAILURES" -eq 0 ] && echo "all passed" || echo "$FAILURES failed"
exit $((FAILURES > 0))
