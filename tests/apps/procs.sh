# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the process-level tests in this folder (sourced, not run):
# start hypar/flooder processes on 127.0.0.1 with free ports, read their JSON lines, clean up.
# Every wait is bounded; every child is killed on exit; the work directory is removed when the
# test passes and kept (and named) when it fails.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hypar-test.XXXXXX")
FAILURES=0
declare -a PIDS=()   # every process started, by index
declare -a PORTS=()  # its port
declare -a OUTS=()   # its stdout file
declare -a ERRS=()   # its stderr file
declare -a IDS=()    # its identity, 127.0.0.1:PORT

# Active views replayed from link_up/link_down lines, connected components (connected INDEX...).
source "$(dirname "${BASH_SOURCE[0]}")/../support/views.sh"

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
  done
  # Helpers that feed stdin (sleep/tail keeping a FIFO open) are in the same process group as
  # their writer subshells: kill the ones we recorded.
  for pid in "${HELPER_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  done
  if [ "$FAILURES" -eq 0 ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
declare -a HELPER_PIDS=()
trap cleanup EXIT
trap 'echo "interrupted"; FAILURES=$((FAILURES + 1)); exit 1' INT TERM

fail() {
  echo "FAIL - $*"
  FAILURES=$((FAILURES + 1))
}
ok() { echo "ok   - $*"; }

# Ports from 10000 up to the kernel's ephemeral range (32768 by default), so that no outgoing
# connection has taken the port a later node listens on (scripts/stress-tests.sh caught one), from a
# base derived from our pid, so that parallel runs rarely collide.
PORT_LOW=10000
PORT_HIGH=$(($(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768) - 1))
[ "$PORT_HIGH" -gt $((PORT_LOW + 1000)) ] || PORT_HIGH=32767
BASE_PORT=$((PORT_LOW + ($$ * 97) % (PORT_HIGH - PORT_LOW - 100)))
NEXT_PORT=$BASE_PORT
next_port() {  # sets NEXT_PORT (no subshell, so that the counter advances)
  NEXT_PORT=$((NEXT_PORT + 1))
  [ "$NEXT_PORT" -gt "$PORT_HIGH" ] && NEXT_PORT=$PORT_LOW
  return 0
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s; false if it never succeeded in time.
wait_until() {
  local limit=$1; shift
  local deadline=$((SECONDS + limit))
  while ! "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.1
  done
  return 0
}

has_line() { grep -q -- "$2" "$1" 2>/dev/null; }  # has_line FILE PATTERN

# start_proc INDEX STDIN_FILE PROGRAM ARGS...: starts PROGRAM with --listen 127.0.0.1:PORT on a
# fresh port, retrying on another port while it exits with "cannot listen". Waits for its
# "listening" line. Returns non-zero if it could not be started.
start_proc() { start_proc_with loopback_listen "$@"; }
loopback_listen() { printf '%s\n' --listen "127.0.0.1:$1"; }  # loopback_listen PORT

# start_proc_with ARGS_FN INDEX STDIN_FILE PROGRAM ARGS...: start_proc, with the address arguments
# that `ARGS_FN PORT` prints, one per line, instead of --listen 127.0.0.1:PORT (e.g. a metrics
# endpoint at an offset, or a wildcard listen with --advertise).
start_proc_with() {
  local args_fn=$1 i=$2 input=$3; shift 3
  local attempt port pid
  local -a address_args
  for attempt in 1 2 3 4 5 6 7 8; do
    next_port
    port=$NEXT_PORT
    OUTS[$i]="$WORK/$i.out"
    ERRS[$i]="$WORK/$i.err"
    mapfile -t address_args < <("$args_fn" "$port")
    "$@" "${address_args[@]}" <"$input" >"${OUTS[$i]}" 2>"${ERRS[$i]}" &
    pid=$!
    if wait_until 10 proc_ready "$pid" "${OUTS[$i]}" && has_line "${OUTS[$i]}" '"event":"listening"'; then
      PIDS[$i]=$pid
      PORTS[$i]=$port
      IDS[$i]="127.0.0.1:$port"
      return 0
    fi
    wait "$pid" 2>/dev/null
    if ! grep -q "cannot listen" "${ERRS[$i]}"; then
      echo "process $i did not start:"; cat "${ERRS[$i]}"
      return 1
    fi
  done
  echo "process $i: no free port after 8 attempts"
  return 1
}
declare -a INPUT=()  # stdin file of process INDEX for start_chain (default /dev/null)
# start_chain N NAME_PREFIX PROGRAM ARGS...: starts processes 0..N-1, named NAME_PREFIX<i>; process
# i > 0 joins through process 0, then i - 1. Fails the test and exits when one cannot start.
start_chain() {
  local n=$1 prefix=$2 i; shift 2
  local -a joins
  for ((i = 0; i < n; i++)); do
    joins=()
    [ "$i" -gt 0 ] && joins+=(--join "127.0.0.1:${PORTS[0]}")
    [ "$i" -gt 1 ] && joins+=(--join "127.0.0.1:${PORTS[$((i - 1))]}")
    if ! start_proc "$i" "${INPUT[$i]:-/dev/null}" "$@" --name "$prefix$i" "${joins[@]}"; then
      fail "$prefix$i could not start"; exit 1
    fi
  done
  ok "$n processes listening (ports from $BASE_PORT)"
}

# wait_overlay SECONDS INDEX...: waits until these processes form one overlay, each with a
# neighbour (views replayed from their link lines, tests/support/views.sh); fails the test and
# exits when they do not in time.
overlay_formed() { [ "$(min_active "$@")" -ge 1 ] && connected "$@"; }
wait_overlay() {
  local limit=$1; shift
  if wait_until "$limit" overlay_formed "$@"; then
    ok "the $# processes form one overlay"
  else
    fail "the $# processes are not one overlay after $limit s"; show_views "$@"; exit 1
  fi
}

# Ready when it printed "listening" or exited.
proc_ready() { has_line "$2" '"event":"listening"' || ! kill -0 "$1" 2>/dev/null; }

alive() { kill -0 "${PIDS[$1]}" 2>/dev/null; }

# The active (or passive) view in process INDEX's latest status line, one IP:PORT per line.
last_view() {  # last_view INDEX active|passive
  grep '"event":"status"' "${OUTS[$1]}" 2>/dev/null | tail -1 |
    sed -n "s/.*\"$2\":\[\([^]]*\)\].*/\1/p" | tr ',' '\n' | tr -d '"' | grep -v '^$'
}
status_count() { grep -c '"event":"status"' "${OUTS[$1]}" 2>/dev/null; }

# stop_all_gracefully INDEX...: SIGTERM each; each must print {"event":"left"} and exit 0 within
# 10 s. Reports a failure per process that does not.
stop_all_gracefully() {
  local i rc
  for i in "$@"; do kill -TERM "${PIDS[$i]}" 2>/dev/null; done
  for i in "$@"; do
    if ! wait_until 10 eval "! kill -0 ${PIDS[$i]} 2>/dev/null"; then
      fail "process $i (port ${PORTS[$i]}) still running 10 s after SIGTERM"
      continue
    fi
    wait "${PIDS[$i]}"; rc=$?
    PIDS[$i]=""
    if [ "$rc" -ne 0 ]; then
      fail "process $i exited with $rc after SIGTERM"; tail -5 "${ERRS[$i]}"
    elif ! has_line "${OUTS[$i]}" '"event":"left"'; then
      fail "process $i did not print {\"event\":\"left\"}"
    fi
  done
}
