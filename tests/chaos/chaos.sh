# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the chaos tests (sourced, not run). On top of tests/apps/procs.sh (work
# directory, fail/ok, wait_until, has_line): network namespaces made by the test, nftables rules
# inside them, processes started inside a namespace, active views rebuilt from the link_up and
# link_down lines each process prints, connected components, deliveries and RSS.
#
# Every namespace is named after the test's pid ($$), so parallel runs never collide; nft tables
# live inside those namespaces and vanish with them. The EXIT trap kills every process (SIGCONT
# first, for stopped ones), then deletes the namespaces, even when the test fails.
#
# Exit status 77 (a ctest SKIP) when not root, or `ip netns` / `nft` are unavailable.

source "$(dirname "${BASH_SOURCE[0]}")/../apps/procs.sh"

SKIP=77
declare -a NAMESPACES=()  # created by this test, deleted on exit
declare -a NSOF=()        # namespace of process INDEX
IDS=()                    # IP:PORT identity of process INDEX (declared by procs.sh)
declare -A INDEX_OF=()    # IP:PORT -> INDEX
declare -a STARTED_AT=()  # $SECONDS when process INDEX started

chaos_cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null; done
  cleanup  # procs.sh: kill every process, keep or remove the work directory
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
trap chaos_cleanup EXIT

# Exits 77 with one line saying why, when this machine cannot run namespace tests.
chaos_require() {
  if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (network namespaces, nftables)"; exit $SKIP; fi
  command -v ip >/dev/null || { echo "SKIP: no ip (iproute2)"; exit $SKIP; }
  command -v nft >/dev/null || { echo "SKIP: no nft (nftables; scripts/install-deps.sh installs it)"; exit $SKIP; }
  local probe="hyprobe$$"
  if ! ip netns add "$probe" 2>/dev/null; then echo "SKIP: cannot create a network namespace"; exit $SKIP; fi
  if ! ip netns exec "$probe" nft add table inet probe 2>/dev/null; then
    ip netns del "$probe"
    echo "SKIP: nftables does not work inside a network namespace here"
    exit $SKIP
  fi
  ip netns del "$probe"
}

# ns_create NAME: a namespace with its loopback up.
ns_create() {
  ip netns add "$1" || { fail "cannot create namespace $1"; exit 1; }
  NAMESPACES+=("$1")
  ip -n "$1" link set lo up
}

# veth_join NS_A IP_A NS_B IP_B: a veth pair between two namespaces, addresses in a /24. Both
# ends are named "veth0" inside their namespace.
veth_join() {
  local a=$1 ipa=$2 b=$3 ipb=$4
  ip link add "hyv$$a" netns "$a" type veth peer name "hyv$$b" netns "$b" || { fail "cannot create veth"; exit 1; }
  ip -n "$a" link set "hyv$$a" name veth0
  ip -n "$b" link set "hyv$$b" name veth0
  ip -n "$a" addr add "$ipa/24" dev veth0
  ip -n "$b" addr add "$ipb/24" dev veth0
  ip -n "$a" link set veth0 up
  ip -n "$b" link set veth0 up
}

# nft_apply NS RULESET: loads an nft ruleset (text) inside namespace NS.
nft_apply() { echo "$2" | ip netns exec "$1" nft -f - || { fail "nft ruleset rejected in $1"; exit 1; }; }
nft_flush() { ip netns exec "$1" nft flush ruleset; }

# Silently drops every packet in and out of veth0 (no RST, no ICMP: a switch that died).
nft_cut_veth() {
  nft_apply "$1" 'table inet hypar_chaos {
    chain cut_in  { type filter hook input  priority 0; iifname "veth0" counter drop; }
    chain cut_out { type filter hook output priority 0; oifname "veth0" counter drop; }
  }'
}

# Drops PERCENT % of the packets every socket in NS receives (each packet crosses one input hook,
# so every TCP segment and ACK between two nodes is lost with that probability).
nft_loss() {
  nft_flush "$1"
  [ "$2" -eq 0 ] && return 0
  nft_apply "$1" "table inet hypar_chaos {
    chain loss { type filter hook input priority 0; numgen random mod 100 < $2 counter drop; }
  }"
}

# nft_dropped NS: packets dropped so far by the counters of our table in NS (0 when none).
nft_dropped() {
  ip netns exec "$1" nft list table inet hypar_chaos 2>/dev/null |
    awk '{ for (f = 1; f < NF; f++) if ($f == "packets") n += $(f + 1) } END { print n + 0 }'
}

# start_in_ns INDEX NS IP PORT STDIN PROGRAM ARGS...: starts PROGRAM --listen IP:PORT inside NS
# and waits (10 s at most) for its "listening" line. Ports are fixed: each namespace is ours.
start_in_ns() {
  local i=$1 ns=$2 ip=$3 port=$4 input=$5; shift 5
  OUTS[$i]="$WORK/$i.out"
  ERRS[$i]="$WORK/$i.err"
  ip netns exec "$ns" "$@" --listen "$ip:$port" <"$input" >"${OUTS[$i]}" 2>"${ERRS[$i]}" &
  local pid=$!
  if ! wait_until 10 proc_ready "$pid" "${OUTS[$i]}" || ! has_line "${OUTS[$i]}" '"event":"listening"'; then
    echo "process $i ($ip:$port in $ns) did not start:"; tail -5 "${ERRS[$i]}"
    kill -KILL "$pid" 2>/dev/null
    return 1
  fi
  PIDS[$i]=$pid
  PORTS[$i]=$port
  NSOF[$i]=$ns
  IDS[$i]="$ip:$port"
  INDEX_OF["$ip:$port"]=$i
  STARTED_AT[$i]=$SECONDS
}

# open_input INDEX: a FIFO the test writes lines to (plumcast broadcasts each line); the test
# keeps it open read-write on fd IN_FD[INDEX], so that the reader never sees end of input.
declare -a IN_FD=()
open_input() {
  local fifo="$WORK/$1.in" fd
  mkfifo "$fifo"
  exec {fd}<>"$fifo"
  IN_FD[$1]=$fd
  INPUT_FILE="$fifo"
}
say() { echo "$2" >&"${IN_FD[$1]}"; }  # say INDEX LINE: process INDEX broadcasts LINE

# start_chained INDEX NS IP "SENDERS" PROGRAM ARGS...: start_in_ns on IP:7000+INDEX, named nINDEX,
# joining through process 0 and then INDEX-1; stdin is a FIFO (open_input) when INDEX is one of
# SENDERS, else /dev/null. Fails the test and exits when the process does not start.
start_chained() {
  local i=$1 ns=$2 ip=$3 senders=" $4 " input=/dev/null; shift 4
  local -a joins=()
  if [[ "$senders" == *" $i "* ]]; then open_input "$i"; input=$INPUT_FILE; fi
  [ "$i" -gt 0 ] && joins+=(--join "${IDS[0]}")
  [ "$i" -gt 1 ] && joins+=(--join "${IDS[$((i - 1))]}")
  start_in_ns "$i" "$ns" "$ip" $((7000 + i)) "$input" "$@" --name "n$i" "${joins[@]}" ||
    { fail "node $i did not start"; exit 1; }
}

kill_proc() {  # kill_proc INDEX: SIGKILL and reap
  local pid=${PIDS[$1]}
  [ -z "$pid" ] && return 0
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  PIDS[$1]=""
}

# ---------------------------------------------------------------- views and components
# active_of, edges, components, components_holding, connected, cross_links, min_active, show_views:
# tests/support/views.sh, sourced by procs.sh.

# ---------------------------------------------------------------- deliveries

# Deliveries are {"event":"deliver","origin":"IP:PORT","seq":N,"hops":H,"data":"..."}: split on
# the quotes, the origin is field 8, ":N," field 11 and the data field 16 (our data has no quote).
# The "data" of every message process INDEX delivered, one per line (duplicates kept).
delivered() { awk -F'"' '$4 == "deliver" { print $16 }' "${OUTS[$1]}"; }
# Duplicate deliveries of process INDEX (the same origin and seq twice), one per line.
duplicates() { awk -F'"' '$4 == "deliver" { if (seen[$8 $11]++ == 1) print $8, $11 }' "${OUTS[$1]}"; }
# missing INDEX WORD...: the WORDs process INDEX has not delivered.
missing() {
  local i=$1; shift
  comm -23 <(printf '%s\n' "$@" | sort -u) <(delivered "$i" | sort -u)
}
# all_delivered "INDEXES" WORD...: every process delivered every WORD.
all_delivered() {
  local idx=($1) i; shift
  for i in "${idx[@]}"; do [ -z "$(missing "$i" "$@")" ] || return 1; done
}

# check_once_and_alive INDEX...: no process delivered a message twice, and every one is alive.
check_once_and_alive() {
  local i d
  for i in "$@"; do
    d=$(duplicates "$i")
    [ -n "$d" ] && fail "node $i delivered twice: $(echo "$d" | head -3 | tr '\n' ' ')"
    alive "$i" || fail "node $i died"
  done
}

# rss_check OK MESSAGE-IF-OK MESSAGE-IF-NOT: an RSS bound, checked unless the binaries run under a
# sanitizer (CHAOS_SANITIZED=1, set by tests/chaos/CMakeLists.txt), where it is only reported.
rss_check() {
  if [ "${CHAOS_SANITIZED:-0}" = 1 ]; then
    echo "note - sanitizer build, RSS not checked: $([ "$1" = 1 ] && echo "$2" || echo "$3")"
  elif [ "$1" = 1 ]; then ok "$2"; else fail "$3"; fi
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/${PIDS[$1]}/status" 2>/dev/null || echo 0; }
