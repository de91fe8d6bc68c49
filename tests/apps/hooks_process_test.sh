#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The event hooks of `hypar node` (--on-peer-up, --on-peer-down, --hook-timeout) in a real
# 5-node cluster on 127.0.0.1. Every hook appends one line per invocation with what it was given.
#   n0, n3, n4: hooks that record and succeed;
#   n1: its up hook records, then exits 1 -> logged "exited with status 1", later hooks still run;
#   n2: its first up hook records, then hangs (sleep 60) -> killed after --hook-timeout 1s with
#       the sleep it started, logged "timed out after 1000 ms (killed)"; the node keeps working
#       and its later hooks run.
# Checks: the environment (HYPAR_EVENT, HYPAR_PEER, HYPAR_PEER_NAME, HYPAR_PEER_REASON,
# HYPAR_PEER_META_<KEY> with a key upper-cased and '-' as '_') matches the peer; replaying each
# node's hook invocations gives its active view (replayed from its link lines), once after the
# joins and again after n4 is SIGKILLed (peer_down with a reason on the others).
# Usage: hooks_process_test.sh PATH/TO/hypar
set -u
export LC_ALL=C
HYPAR=$1
source "$(dirname "$0")/procs.sh"

N=5
# record.sh LOG [fail|hang]: one line "EVENT|PEER|NAME|REASON|META_APP|META_ZONE_ID" per invocation.
cat >"$WORK/record.sh" <<'SCRIPT'
printf '%s|%s|%s|%s|%s|%s\n' "$HYPAR_EVENT" "$HYPAR_PEER" "$HYPAR_PEER_NAME" "${HYPAR_PEER_REASON:-}" \
  "${HYPAR_PEER_META_APP:-}" "${HYPAR_PEER_META_ZONE_ID:-}" >>"$1"
case "${2:-}" in
  fail) exit 1 ;;
  hang)
    if mkdir "$1.hung" 2>/dev/null; then  # the first invocation only
      sleep 60 &
      echo $! >"$1.sleep-pid"
      wait
    fi ;;
esac
exit 0
SCRIPT

MODE=("" fail hang "" "")
for ((i = 0; i < N; i++)); do
  log="$WORK/hooks.$i"
  : >"$log"
  joins=()
  [ "$i" -gt 0 ] && joins+=(--join "127.0.0.1:${PORTS[0]}")
  if ! start_proc "$i" /dev/null "$HYPAR" node --name "n$i" --keepalive 300ms --status-every 500ms \
      --meta "app=10.0.0.$i:9000" --meta "zone-id=z$i" --hook-timeout 1s \
      --on-peer-up "sh $WORK/record.sh $log ${MODE[$i]}" --on-peer-down "sh $WORK/record.sh $log" "${joins[@]}"; then
    fail "node $i could not start"; exit 1
  fi
done
ok "$N nodes listening (ports from $BASE_PORT)"
declare -A INDEX_OF=()
for ((i = 0; i < N; i++)); do INDEX_OF[${IDS[$i]}]=$i; done

# replayed INDEX: the peers up after replaying node INDEX's hook invocations, sorted.
replayed() {
  awk -F'|' '$1 == "peer_up" { up[$2] = 1 } $1 == "peer_down" { delete up[$2] } END { for (p in up) print p }' \
    "$WORK/hooks.$1" | sort
}
replay_matches() {  # replay_matches INDEX...: each one's replay == its active view (non-empty)
  local i view
  for i in "$@"; do
    view=$(active_of "$i" | sort)
    [ -n "$view" ] && [ "$(replayed "$i")" = "$view" ] || return 1
  done
}
explain_replay() {
  local i
  for i in "$@"; do
    echo "  n$i: hooks say [$(replayed "$i" | tr '\n' ' ')] view [$(active_of "$i" | sort | tr '\n' ' ')]"
  done
}
# env_ok INDEX: every line of node INDEX's hook log names a real peer with its own name and
# metadata; downs carry a reason and ups none.
env_ok() {
  local event peer name reason app zone j
  while IFS='|' read -r event peer name reason app zone; do
    j=${INDEX_OF[$peer]:-}
    if [ -z "$j" ]; then echo "n$1: hook for unknown peer \"$peer\""; return 1; fi
    case "$event" in
      peer_up) [ -z "$reason" ] || { echo "n$1: peer_up with reason \"$reason\""; return 1; } ;;
      peer_down) [ -n "$reason" ] || { echo "n$1: peer_down without HYPAR_PEER_REASON"; return 1; } ;;
      *) echo "n$1: HYPAR_EVENT \"$event\""; return 1 ;;
    esac
    [ "$name" = "n$j" ] || { echo "n$1: HYPAR_PEER_NAME \"$name\" for n$j"; return 1; }
    if [ "$event" = peer_up ]; then
      [ "$app" = "10.0.0.$j:9000" ] || { echo "n$1: HYPAR_PEER_META_APP \"$app\" for n$j"; return 1; }
      [ "$zone" = "z$j" ] || { echo "n$1: HYPAR_PEER_META_ZONE_ID \"$zone\" for n$j"; return 1; }
    fi
  done <"$WORK/hooks.$1"
}

ALL=(0 1 2 3 4)
settled() { connected "${ALL[@]}" && [ "$(min_active "${ALL[@]}")" -ge 3 ] && replay_matches "${ALL[@]}"; }
if wait_until 30 settled; then
  ok "one overlay; every node's hook invocations replay to its active view"
else
  fail "hooks did not replay to the active views within 30 s"; explain_replay "${ALL[@]}"; show_views "${ALL[@]}"
fi
for i in "${ALL[@]}"; do
  if why=$(env_ok "$i"); then ok "n$i: hook environment matches the peers ($(wc -l <"$WORK/hooks.$i") invocations)"
  else fail "$why"; fi
done

# n1: every up hook exits 1; each is logged, and the ones after the first still ran.
# (A hook records before it exits, and its failure is logged after: wait for the last log line.)
n1_logged() {
  fails=$(grep -c 'hooks: peer_up hook for 127.0.0.1:[0-9]* exited with status 1' "${ERRS[1]}")
  ups=$(grep -c '^peer_up|' "$WORK/hooks.1")
  [ "$fails" -ge 2 ] && [ "$fails" -eq "$ups" ]
}
if wait_until 5 n1_logged; then
  ok "n1: $fails failing up hooks, each logged with its exit status, each one run"
else
  fail "n1: $ups up hooks ran, $fails logged as exited with status 1 (want >= 2 and equal)"
fi

# n2: the first up hook hung and was killed (with its sleep) and logged; later ones ran.
if wait_until 5 grep -q 'hooks: peer_up hook for 127.0.0.1:[0-9]* timed out after 1000 ms (killed)' "${ERRS[2]}"; then
  ok "n2: the hanging hook was killed after --hook-timeout and logged"
else
  fail "n2: no 'timed out after 1000 ms (killed)' log line"; tail -5 "${ERRS[2]}"
fi
gone() {  # gone PID: not running (a zombie counts: killed, waiting for a reaper)
  ! kill -0 "$1" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
sleep_pid=$(cat "$WORK/hooks.2.sleep-pid" 2>/dev/null)
if [ -n "$sleep_pid" ] && wait_until 2 gone "$sleep_pid"; then
  ok "n2: the command the hanging hook started was killed too"
else
  fail "n2: the hanging hook's sleep (pid ${sleep_pid:-unknown}) still runs"
  [ -n "$sleep_pid" ] && kill -KILL "$sleep_pid" 2>/dev/null
fi
ups=$(grep -c '^peer_up|' "$WORK/hooks.2")
[ "$ups" -ge 2 ] && ok "n2: $ups up hooks ran, the hung one first" || fail "n2: only $ups up hook(s) ran after the hang"

# Crash n4: the others' down hooks run (with a reason) and the replays follow the views.
REST=(0 1 2 3)
HAD_N4=()  # the nodes with n4 in their active view: each must run a peer_down hook for it
for i in "${REST[@]}"; do active_of "$i" | grep -qxF "${IDS[4]}" && HAD_N4+=("$i"); done
kill -KILL "${PIDS[4]}"; wait "${PIDS[4]}" 2>/dev/null; PIDS[4]=""
no_n4() { local i; for i in "${REST[@]}"; do replayed "$i" | grep -qxF "${IDS[4]}" && return 1; done; return 0; }
healed() { no_n4 && connected "${REST[@]}" && replay_matches "${REST[@]}"; }
if wait_until 20 healed; then
  ok "after n4 crashed: no replay lists it, and every replay is the node's active view"
else
  fail "after n4 crashed the hooks did not follow within 20 s"; explain_replay "${REST[@]}"
fi
for i in "${HAD_N4[@]}"; do
  grep -q "^peer_down|${IDS[4]}|n4|[a-z_]*|" "$WORK/hooks.$i" || fail "n$i: no peer_down hook for n4"
done
[ "${#HAD_N4[@]}" -ge 1 ] || fail "no node had n4 as a neighbour"
for i in "${REST[@]}"; do
  why=$(env_ok "$i") || fail "$why"
  alive "$i" || fail "n$i died"
done
[ "$FAILURES" -eq 0 ] && ok "its neighbours (${HAD_N4[*]/#/n}) ran a peer_down hook for n4 with its name and a reason"

stop_all_gracefully "${REST[@]}"
if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
echo "all checks passed"
