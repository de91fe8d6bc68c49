#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Deployment of `hypar node` processes on loopback:
#   1. a wildcard --listen without --advertise exits 2 and says to add --advertise ([::] too);
#      an unusable --state-dir (not a directory, read-only) exits 1 with a clear line;
#   2. a 4-node cluster listening on 0.0.0.0 and advertising 127.0.0.x addresses, joined through
#      localhost:PORT: every node is known by its advertised address;
#   3. a refused contact is reported in well under a second with reason "refused";
#   4. a contact file is read again at the re-join: a node whose file named a dead contact joins
#      once the file names a live one;
#   5. a node SIGKILLed and restarted with its --state-dir and no contact is back in the overlay
#      within a few keepalive periods, as a newer incarnation;
#   6. damaged state files (random bytes, truncated, empty) are ignored with a log line.
#   7. (given their paths) flooder and plumcast take the same options: a wildcard bind advertising
#      127.0.0.5, joined through a contact file by a second process.
# Usage: hypar_deploy_test.sh PATH/TO/hypar [PATH/TO/flooder PATH/TO/plumcast]
set -u
HYPAR=$1
OTHER_APPS=("${@:2}")
source "$(dirname "$0")/procs.sh"

NODE_ARGS=(--keepalive 200ms --status-every 300ms --shuffle-period 2s)
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start_at INDEX LISTEN_IP ADVERTISE_IP|- ARGS...: like start_proc, with --listen LISTEN_IP:PORT and,
# unless "-", --advertise ADVERTISE_IP:PORT (same port).
start_at() {
  local i=$1
  LISTEN_IP=$2 ADVERTISE_IP=$3
  shift 3
  start_proc_with deploy_listen "$i" /dev/null "$HYPAR" node "$@"
}
deploy_listen() {
  printf '%s\n' --listen "$LISTEN_IP:$1"
  [ "$ADVERTISE_IP" = "-" ] || printf '%s\n' --advertise "$ADVERTISE_IP:$1"
}
# restart_at INDEX LISTEN ARGS...: starts process INDEX again on its address (output appended),
# retrying for a few seconds while the port is still taken (the test's ports may fall in the
# kernel's ephemeral range, where another connection can hold it for a while).
restart_at() {
  local i=$1 listen=$2 attempt before; shift 2
  for attempt in $(seq 1 20); do
    before=$(grep -c '"event":"listening"' "${OUTS[$i]}")
    "$HYPAR" node --listen "$listen" "$@" </dev/null >>"${OUTS[$i]}" 2>>"${ERRS[$i]}" &
    PIDS[$i]=$!
    wait_until 10 eval "[ \$(grep -c '\"event\":\"listening\"' ${OUTS[$i]}) -gt $before ] || ! kill -0 ${PIDS[$i]} 2>/dev/null"
    kill -0 "${PIDS[$i]}" 2>/dev/null && return 0
    wait "${PIDS[$i]}" 2>/dev/null
    sleep 0.5
  done
  return 1
}
in_active() { last_view "$1" active | grep -qx "$2"; }  # in_active INDEX IP:PORT

# ---- 1. configuration errors
"$HYPAR" node --listen 0.0.0.0:7000 >/dev/null 2>"$WORK/wild.err"; rc=$?
if [ "$rc" -eq 2 ] && grep -q -- "--advertise" "$WORK/wild.err"; then
  ok "--listen 0.0.0.0 without --advertise: exit 2, says to add --advertise"
else
  fail "--listen 0.0.0.0 without --advertise: exit $rc: $(head -1 "$WORK/wild.err")"
fi
"$HYPAR" node --listen "[::]:7000" >/dev/null 2>"$WORK/wild6.err"; rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--advertise" "$WORK/wild6.err" && ok "--listen [::] without --advertise: exit 2" ||
  fail "--listen [::] without --advertise: exit $rc"
touch "$WORK/not-a-dir"
"$HYPAR" node --listen 127.0.0.1:7000 --state-dir "$WORK/not-a-dir" >/dev/null 2>"$WORK/sd.err"; rc=$?
if [ "$rc" -eq 1 ] && grep -q "not writable" "$WORK/sd.err"; then
  ok "unusable --state-dir: exit 1: $(head -1 "$WORK/sd.err")"
else
  fail "unusable --state-dir: exit $rc: $(head -1 "$WORK/sd.err")"
fi

# A read-only directory (a read-only bind mount in a private mount namespace; root can write to
# any directory whose mode says otherwise). Skipped, said so, where that is not possible.
mkdir -p "$WORK/ro"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
   unshare -m sh -c "mount --bind '$WORK/ro' '$WORK/ro' && mount -o remount,bind,ro '$WORK/ro'" 2>/dev/null; then
  unshare -m sh -c "mount --bind '$WORK/ro' '$WORK/ro' && mount -o remount,bind,ro '$WORK/ro' &&
    exec '$HYPAR' node --listen 127.0.0.1:7000 --state-dir '$WORK/ro'" >/dev/null 2>"$WORK/ro.err"; rc=$?
  if [ "$rc" -eq 1 ] && grep -q "not writable: Read-only file system" "$WORK/ro.err"; then
    ok "read-only --state-dir: exit 1: $(head -1 "$WORK/ro.err")"
  else
    fail "read-only --state-dir: exit $rc: $(head -1 "$WORK/ro.err")"
  fi
else
  echo "skip - read-only --state-dir: no private mount namespace here"
fi

# ---- 2. wildcard bind, advertised 127.0.0.x identities, joined through localhost:PORT
start_at 0 0.0.0.0 127.0.0.1 --name seed "${NODE_ARGS[@]}" || { fail "seed did not start"; exit 1; }
for i in 1 2 3; do
  start_at "$i" 0.0.0.0 "127.0.0.$((i + 1))" --name "n$i" --join "localhost:${PORTS[0]}" "${NODE_ARGS[@]}" ||
    { fail "node $i did not start"; exit 1; }
done
all_joined() {
  local i
  for i in 1 2 3; do has_line "${OUTS[$i]}" '"event":"joined"' || return 1; done
  for i in 0 1 2 3; do [ "$(last_view "$i" active | wc -l)" -ge 2 ] || return 1; done
}
if wait_until 20 all_joined; then
  ok "4 nodes on 0.0.0.0 joined through localhost:${PORTS[0]}"
else
  fail "the wildcard cluster did not form"
  for i in 0 1 2 3; do echo "  node $i: $(tail -1 "${OUTS[$i]}")"; tail -3 "${ERRS[$i]}"; done
fi
for i in 1 2 3; do
  has_line "${OUTS[$i]}" "\"event\":\"listening\",\"id\":\"127.0.0.$((i + 1)):${PORTS[$i]}\"" ||
    fail "node $i does not announce its advertised address"
done
bad_ids=$(for i in 0 1 2 3; do last_view "$i" active; last_view "$i" passive; done | grep -v '^127\.0\.0\.[1-4]:' | sort -u)
[ -z "$bad_ids" ] && ok "every view lists advertised 127.0.0.x addresses only" || fail "views list $bad_ids"

# ---- 3. a refused contact, reported at once
next_port; dead=$NEXT_PORT
start=$(now_ms)
start_at 4 127.0.0.1 - --join "127.0.0.1:$dead" "${NODE_ARGS[@]}" || fail "node 4 did not start"
wait_until 10 has_line "${OUTS[4]}" '"event":"join_failed"'
elapsed=$(($(now_ms) - start))
expected="{\"event\":\"join_failed\",\"contacts\":[{\"contact\":\"127.0.0.1:$dead\",\"reason\":\"refused\"}]}"
if grep -qxF "$expected" "${OUTS[4]}" && [ "$elapsed" -lt 1000 ]; then
  ok "refused contact reported in ${elapsed} ms (process start included): $expected"
else
  fail "refused contact: after ${elapsed} ms: $(grep join_failed "${OUTS[4]}")"
fi

# ---- 4. a contact file read again at the re-join
echo "127.0.0.1:$dead  # nobody there yet" >"$WORK/seeds"
start_at 5 127.0.0.1 - --join-file "$WORK/seeds" "${NODE_ARGS[@]}" || fail "node 5 did not start"
wait_until 10 has_line "${OUTS[5]}" '"event":"join_failed"' || fail "node 5 printed no join_failed"
printf '# the seed\nlocalhost:%s\n' "${PORTS[0]}" >"$WORK/seeds"
if wait_until 15 eval "[ \"\$(last_view 5 active | wc -l)\" -ge 1 ]"; then
  ok "the contact file was read again at a re-join: node 5 joined"
else
  fail "node 5 never joined after its contact file changed"; tail -5 "${ERRS[5]}"
fi

# ---- 5. SIGKILL and restart from the state directory, without --join
mkdir -p "$WORK/state6"
start_at 6 127.0.0.1 - --name n6 --state-dir "$WORK/state6" --join "127.0.0.2:${PORTS[1]}" "${NODE_ARGS[@]}" ||
  fail "node 6 did not start"
me="127.0.0.1:${PORTS[6]}"
has_peers_saved() { [ -s "$WORK/state6/hypar-state" ] && [ "$(last_view 6 active | wc -l)" -ge 2 ]; }
wait_until 20 has_peers_saved || fail "node 6 did not join or save its state"
sleep 2.5  # one save interval (2 s) after the views settled
kill -KILL "${PIDS[6]}"; wait "${PIDS[6]}" 2>/dev/null
first_life=$(grep -o 'incarnation [0-9]*' "${ERRS[6]}" | head -1)
declare -a mark=()
for i in 0 1 2 3 6; do mark[$i]=$(wc -l <"${OUTS[$i]}"); done
start=$(now_ms)
restart_at 6 "$me" --name n6 --state-dir "$WORK/state6" "${NODE_ARGS[@]}" || fail "node 6 could not listen again"
since_mark() { tail -n +"$((mark[$1] + 1))" "${OUTS[$1]}"; }
back() {  # the new life joined, and a peer brought up a link to it (the old life is dead)
  local i
  since_mark 6 | grep -q '"event":"joined"' || return 1
  for i in 0 1 2 3; do since_mark "$i" | grep -qF "\"event\":\"link_up\",\"peer\":\"$me\"" && return 0; done
  return 1
}
if wait_until 15 back; then
  ok "node 6 restarted with --state-dir and no --join is back in $(($(now_ms) - start)) ms (keepalive 200 ms)"
else
  fail "node 6 did not come back from its saved state"; tail -5 "${ERRS[6]}"
fi
grep -q "saved state: incarnation" "${ERRS[6]}" && ok "$(grep 'saved state: incarnation' "${ERRS[6]}" | tail -1 | sed 's/^\[info\] //')" ||
  fail "node 6 did not log its saved state"

# ---- 6. damaged state files: ignored with a log line, never a crash
valid="$WORK/state6/hypar-state"
for damage in random truncated empty; do
  dir="$WORK/damaged-$damage"; mkdir -p "$dir"
  case $damage in
    random) head -c 300 /dev/urandom >"$dir/hypar-state" ;;
    truncated) head -c "$(($(stat -c %s "$valid") / 2))" "$valid" >"$dir/hypar-state" ;;
    empty) : >"$dir/hypar-state" ;;
  esac
  idx=$((7 + ${#damage}))  # a distinct index per case
  if start_at "$idx" 127.0.0.1 - --state-dir "$dir" "${NODE_ARGS[@]}" && grep -q "saved state: .*ignored" "${ERRS[$idx]}"; then
    ok "$damage state file: $(grep -o 'saved state: .*' "${ERRS[$idx]}" | head -1)"
  else
    fail "$damage state file: $(head -3 "${ERRS[$idx]}")"
  fi
  # The node writes its own state over the damaged file at start.
  wait_until 5 eval "[ \"\$(head -c 4 $dir/hypar-state)\" = HYPS ]" && ok "$damage state file replaced by a valid one" ||
    fail "$damage state file not replaced"
done

# ---- 7. the other node apps
app_index=20
for app in "${OTHER_APPS[@]}"; do
  a=$app_index; b=$((app_index + 1)); app_index=$((app_index + 2))
  name=$(basename "$app")
  LISTEN_IP=0.0.0.0 ADVERTISE_IP=127.0.0.5
  start_proc_with deploy_listen "$a" /dev/null "$app" --state-dir "$WORK" || { fail "$name did not start"; continue; }
  p=${PORTS[$a]}
  echo "127.0.0.5:$p" >"$WORK/$name-seeds"
  start_proc "$b" /dev/null "$app" --join-file "$WORK/$name-seeds" || { fail "$name did not start"; continue; }
  if wait_until 10 has_line "${OUTS[$b]}" "\"event\":\"link_up\",\"peer\":\"127.0.0.5:$p\"" &&
     has_line "${OUTS[$a]}" "\"event\":\"listening\",\"id\":\"127.0.0.5:$p\""; then
    ok "$name: 0.0.0.0:$p advertised as 127.0.0.5:$p, joined through a contact file"
  else
    fail "$name with --advertise/--join-file: $(head -3 "${ERRS[$a]}" "${ERRS[$b]}")"
  fi
done

stop_all_gracefully 0 1 2 3
[ "$FAILURES" -eq 0 ] && echo "all passed" || echo "$FAILURES failed"
exit $((FAILURES > 0))
