#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Partition and heal with real processes: 16 plumcast nodes, 8 in namespace A (10.99.0.1) and 8 in
# namespace B (10.99.0.2), joined by a veth pair. The overlay forms across both; then nft silently
# drops everything on the veth (no RST, no ICMP) for CUT_S (20) seconds, far longer than the
# keepalive timeout (--keepalive 200ms: a peer silent for 1 s is failed); then the rule goes.
#   1. before: one component with links across;
#   2. during the cut: no link across survives, each side is one component, and a broadcast on
#      each side reaches its own side;
#   3. after the heal: within HEAL_BOUND_S the overlay is one component again (computed from every
#      node's active view), broadcasts from both sides reach all 16 nodes, and so do (within 10 s)
#      the two broadcast during the cut;
# HEAL_BOUND_S, 62 s, holds by design for any cut: with partition healing, every peer lost to a
# timeout is asked again at least every heal_retry_max (60 s), plus a 2 s connect. In practice the
# first of dozens of such retries (16 nodes, several lost links each) succeeds at once (measured:
# 0 s). Without healing the halves merge only by luck (a connect in flight when the cut ends).
# Usage: partition_test.sh PATH/TO/plumcast   (env: CUT_S [20], HEAL_BOUND_S [62], CHECK_CUT_REPAIR [1])
set -u
PLUMCAST=$1
source "$(dirname "$0")/chaos.sh"
chaos_require

CUT_S=${CUT_S:-20}
HEAL_BOUND_S=${HEAL_BOUND_S:-62}
NS_A="hyca$$"
NS_B="hycb$$"
IP_A=10.99.0.1
IP_B=10.99.0.2
ns_create "$NS_A"
ns_create "$NS_B"
veth_join "$NS_A" "$IP_A" "$NS_B" "$IP_B"

NODE_ARGS=(--keepalive 200ms --shuffle-period 2s)
SIDE_A=(0 1 2 3 4 5 6 7)
SIDE_B=(8 9 10 11 12 13 14 15)
ALL=("${SIDE_A[@]}" "${SIDE_B[@]}")
SENDERS=(0 1 2 8 9 10)  # broadcast through their stdin FIFO

for i in "${ALL[@]}"; do
  if [ "$i" -lt 8 ]; then ns=$NS_A ip=$IP_A; else ns=$NS_B ip=$IP_B; fi
  start_chained "$i" "$ns" "$ip" "${SENDERS[*]}" "$PLUMCAST" "${NODE_ARGS[@]}"
done
ok "16 plumcast nodes: 0-7 in $NS_A ($IP_A), 8-15 in $NS_B ($IP_B)"

formed() { connected "${ALL[@]}" && [ "$(min_active "${ALL[@]}")" -ge 2 ] && [ "$(cross_links "${SIDE_A[*]}" "${SIDE_B[*]}")" -gt 0 ]; }
if wait_until 30 formed; then
  ok "one component, every active view >= 2, $(cross_links "${SIDE_A[*]}" "${SIDE_B[*]}") links from A to B"
else
  fail "the overlay did not form within 30 s ($(components "${ALL[@]}") components)"; show_views "${ALL[@]}"; exit 1
fi
say 0 pre-a
say 8 pre-b
wait_until 10 all_delivered "${ALL[*]}" pre-a pre-b && ok "before the cut, broadcasts from A and B reach all 16" ||
  fail "before the cut, a broadcast did not reach everyone"

# ---------------------------------------------------------------- the cut
nft_cut_veth "$NS_A"
cut_at=$SECONDS
split_clean() {
  [ "$(cross_links "${SIDE_A[*]}" "${SIDE_B[*]}")" -eq 0 ] && [ "$(cross_links "${SIDE_B[*]}" "${SIDE_A[*]}")" -eq 0 ] &&
    connected "${SIDE_A[@]}" && connected "${SIDE_B[@]}"
}
if wait_until $((CUT_S - 2)) split_clean; then
  ok "cut: within $((SECONDS - cut_at)) s no link across, each side one component"
else
  fail "cut: $((SECONDS - cut_at)) s later, links across A->B: $(cross_links "${SIDE_A[*]}" "${SIDE_B[*]}"), side A components: $(components "${SIDE_A[@]}"), side B: $(components "${SIDE_B[@]}")"
  show_views "${ALL[@]}"
fi
say 1 cut-a
say 9 cut-b
wait_until 5 all_delivered "${SIDE_A[*]}" cut-a && wait_until 5 all_delivered "${SIDE_B[*]}" cut-b &&
  ok "during the cut each side's broadcast reaches its own side" || fail "during the cut a side's broadcast did not reach its side"
while [ $((SECONDS - cut_at)) -lt "$CUT_S" ]; do sleep 0.2; done
echo "info - the cut dropped $(nft_dropped "$NS_A") packets"

# ---------------------------------------------------------------- the heal
nft_flush "$NS_A"
heal_at=$SECONDS
if wait_until "$HEAL_BOUND_S" connected "${ALL[@]}"; then
  ok "healed: one component again $((SECONDS - heal_at)) s after the cut ended (bound ${HEAL_BOUND_S} s)," \
    "$(cross_links "${SIDE_A[*]}" "${SIDE_B[*]}") links A->B"
else
  fail "the overlay is still $(components "${ALL[@]}") components ${HEAL_BOUND_S} s after the cut ended" \
    "(links A->B: $(cross_links "${SIDE_A[*]}" "${SIDE_B[*]}"), B->A: $(cross_links "${SIDE_B[*]}" "${SIDE_A[*]}"))"
  show_views "${ALL[@]}"
fi
say 2 post-a
say 10 post-b
if wait_until 10 all_delivered "${ALL[*]}" post-a post-b; then
  ok "after the heal, broadcasts from A and B reach all 16"
else
  for i in "${ALL[@]}"; do m=$(missing "$i" post-a post-b | tr '\n' ' '); [ -n "$m" ] && echo "  node $i misses: $m"; done
  fail "after the heal, a broadcast did not reach everyone"
fi
# Plumtree repair: a message broadcast on one side during the cut (shorter than the 30 s payload
# cache) reaches the other side after the heal (the catch-up IHAVE of a new link, then
# GRAFT). Checked unless CHECK_CUT_REPAIR=0.
if wait_until 10 all_delivered "${ALL[*]}" cut-a cut-b; then
  ok "the broadcasts made during the cut reached the other side after the heal"
elif [ "${CHECK_CUT_REPAIR:-1}" = 1 ]; then
  fail "a broadcast made during the cut never reached the other side after the heal"
else
  echo "note - a broadcast made during the cut did not reach the other side after the heal (not checked)"
fi

check_once_and_alive "${ALL[@]}"
[ "$FAILURES" -eq 0 ] && ok "no node delivered a message twice; all 16 alive"

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
