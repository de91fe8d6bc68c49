#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's hook recipes, examples/hooks/prometheus-file-sd.sh and nginx-upstream.sh:
#   1. run by hand with a hook's environment: endpoints a peer could send to break the file (a
#      quote, a ';', no port) are refused with a message and leave the peer out; the lists follow
#      ups and downs; nginx gets a placeholder server when no peer is left;
#   2. as the hooks of 4 `hypar node` processes on 127.0.0.1: each node's target list and upstream
#      block hold exactly its active peers' endpoints (metadata "metrics" and "app"), after the
#      joins and again after one node is SIGKILLed.
# With --promtool (a ctest of its own; exit 77 without promtool, scripts/install-deps.sh --ops):
# instead of the above, every state of a file_sd list written in part 1 must pass
# `promtool check config` and `promtool check service-discovery` must find exactly its targets.
# Usage: hooks_examples_test.sh PATH/TO/hypar [--promtool]
set -u
export LC_ALL=C
HYPAR=$1
MODE=${2:-}
EXAMPLES=$(cd "$(dirname "$0")/../../examples/hooks" && pwd)
PROM=$EXAMPLES/prometheus-file-sd.sh
NGINX=$EXAMPLES/nginx-upstream.sh
if [ "$MODE" = --promtool ] && ! command -v promtool >/dev/null; then
  echo "SKIP: promtool not installed (scripts/install-deps.sh --ops)"; exit 77
fi
source "$(dirname "$0")/procs.sh"

# The targets of a file_sd list, and the servers of an upstream block, one per line, sorted.
targets_of() { sed -n 's/.*"targets":\[\(.*\)\]}\]$/\1/p' "$1" 2>/dev/null | tr ',' '\n' | tr -d '"' | grep -v '^$' | sort; }
servers_of() { sed -n 's/^  server \([^ ;]*\);$/\1/p' "$1" 2>/dev/null | sort; }
hook() {  # hook EVENT PEER METRICS APP: runs both scripts as a hook of node "h" would
  HYPAR_EVENT=$1 HYPAR_PEER=$2 HYPAR_PEER_NAME=x HYPAR_PEER_META_METRICS=$3 HYPAR_PEER_META_APP=$4 \
    sh "$PROM" "$WORK/h/targets.json" 2>>"$WORK/h.err" &&
  HYPAR_EVENT=$1 HYPAR_PEER=$2 HYPAR_PEER_NAME=x HYPAR_PEER_META_METRICS=$3 HYPAR_PEER_META_APP=$4 \
    sh "$NGINX" "$WORK/h/upstream.conf" 2>>"$WORK/h.err"
}
expect() {  # expect WHAT "TARGETS" "SERVERS": the files of node "h" now
  local t s
  t=$(targets_of "$WORK/h/targets.json" | tr '\n' ' ')
  s=$(servers_of "$WORK/h/upstream.conf" | tr '\n' ' ')
  if [ "$t" = "$2" ] && [ "$s" = "$3" ]; then ok "$1"; else fail "$1: targets [$t] servers [$s], want [$2] [$3]"; fi
}
# promtool_agrees WHAT "TARGETS": the list passes promtool check config and service discovery finds
# exactly TARGETS.
promtool_agrees() {
  local found out
  printf 'scrape_configs:\n  - job_name: hypar\n    file_sd_configs:\n      - files: [%s]\n' "$WORK/h/*.json" \
    >"$WORK/prometheus.yml"
  if ! out=$(promtool check config "$WORK/prometheus.yml" 2>&1); then fail "$1: promtool check config: $out"; return; fi
  found=$(timeout 20 promtool check service-discovery --timeout=2s "$WORK/prometheus.yml" hypar 2>&1 |
    sed -n 's/^ *"__address__": "\(.*\)",\{0,1\}$/\1/p' | sort -u | tr '\n' ' ')
  if [ "$found" = "$2" ]; then ok "$1: promtool accepts it and discovers [$found]"
  else fail "$1: promtool discovers [$found], want [$2]"; fi
}

mkdir -p "$WORK/h"
step() {  # step WHAT "TARGETS" "SERVERS"
  if [ "$MODE" = --promtool ]; then promtool_agrees "$1" "$2"; else expect "$@"; fi
}
hook peer_up 127.0.0.1:7001 127.0.0.1:9101 127.0.0.1:8001
hook peer_up '[::1]:7002' '[::1]:9102' '[::1]:8002'
step "two peers up (one IPv6)" "127.0.0.1:9101 [::1]:9102 " "127.0.0.1:8001 [::1]:8002 "
hook peer_up 127.0.0.1:7003 '127.0.0.1:9103"]}' '127.0.0.1:8003;} server evil:1'
hook peer_up 127.0.0.1:7004 'no-port' ''
step "hostile endpoints are left out" "127.0.0.1:9101 [::1]:9102 " "127.0.0.1:8001 [::1]:8002 "
hook peer_down 127.0.0.1:7001 '' ''
step "a peer down leaves the lists" "[::1]:9102 " "[::1]:8002 "
hook peer_down '[::1]:7002' '' ''
step "no peer left" "" ""
if [ "$MODE" = --promtool ]; then
  if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
  echo "all checks passed"; exit 0
fi
grep -q 'server 127.0.0.1:1 down;' "$WORK/h/upstream.conf" && ok "an empty upstream gets a placeholder server" ||
  fail "no placeholder in an empty upstream: $(cat "$WORK/h/upstream.conf")"
for what in 'prometheus-file-sd: 127.0.0.1:7003: bad metrics endpoint refused' \
            'nginx-upstream: 127.0.0.1:7003: bad app endpoint refused' \
            'prometheus-file-sd: 127.0.0.1:7004: metrics endpoint without a port refused' \
            'nginx-upstream: 127.0.0.1:7004 advertises no app endpoint'; do
  grep -qF "$what" "$WORK/h.err" && ok "said: $what" || fail "did not say: $what"
done

# Part 2: a real cluster, every node keeping its own files with both scripts as its hooks.
N=4
for ((i = 0; i < N; i++)); do
  mkdir -p "$WORK/n$i"
  cmd="sh $PROM $WORK/n$i/targets.json && sh $NGINX $WORK/n$i/upstream.conf"
  joins=()
  [ "$i" -gt 0 ] && joins+=(--join "127.0.0.1:${PORTS[0]}")
  if ! start_proc "$i" /dev/null "$HYPAR" node --name "n$i" --keepalive 300ms \
      --meta "metrics=127.0.0.1:1910$i" --meta "app=127.0.0.1:1810$i" \
      --on-peer-up "$cmd" --on-peer-down "$cmd" "${joins[@]}"; then
    fail "node $i could not start"; exit 1
  fi
done
ok "$N nodes listening (ports from $BASE_PORT)"
declare -A INDEX_OF=()
for ((i = 0; i < N; i++)); do INDEX_OF[${IDS[$i]}]=$i; done
wanted() {  # wanted INDEX metrics|app: the endpoints its active peers advertise, sorted
  local p
  for p in $(active_of "$1"); do
    if [ "$2" = metrics ]; then echo "127.0.0.1:1910${INDEX_OF[$p]}"; else echo "127.0.0.1:1810${INDEX_OF[$p]}"; fi
  done | sort
}
files_match() {  # files_match INDEX...: both files of each node hold its active view (non-empty)
  local i
  for i in "$@"; do
    [ -n "$(active_of "$i")" ] &&
      [ "$(targets_of "$WORK/n$i/targets.json")" = "$(wanted "$i" metrics)" ] &&
      [ "$(servers_of "$WORK/n$i/upstream.conf")" = "$(wanted "$i" app)" ] || return 1
  done
}
explain() {
  local i
  for i in "$@"; do
    echo "  n$i: view [$(wanted "$i" metrics | tr '\n' ' ')] targets [$(targets_of "$WORK/n$i/targets.json" | tr '\n' ' ')]" \
         "servers [$(servers_of "$WORK/n$i/upstream.conf" | tr '\n' ' ')]"
  done
}
ALL=(0 1 2 3)
joined() { connected "${ALL[@]}" && [ "$(min_active "${ALL[@]}")" -ge 2 ] && files_match "${ALL[@]}"; }
if wait_until 30 joined; then ok "after the joins every node's target list and upstream are its active view"
else fail "the files did not follow the joins within 30 s"; explain "${ALL[@]}"; fi

kill -KILL "${PIDS[3]}"; wait "${PIDS[3]}" 2>/dev/null; PIDS[3]=""
REST=(0 1 2)
no_n3() { ! grep -q '19103\|18103' "$WORK"/n[012]/targets.json "$WORK"/n[012]/upstream.conf; }
healed() { no_n3 && files_match "${REST[@]}"; }
if wait_until 20 healed; then ok "after n3 crashed every survivor's files are its active view, without n3"
else fail "the files did not follow the crash within 20 s"; explain "${REST[@]}"; fi

stop_all_gracefully "${REST[@]}"
if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
echo "all checks passed"
