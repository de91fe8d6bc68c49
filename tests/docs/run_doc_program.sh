#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage: run_doc_program.sh PROGRAM
# Runs a program from the docs briefly, on loopback only, and fails unless it exits 0:
# - a program that ends by itself must do so within RUN_BOUND_S (30 s);
# - a program that listens (a node) is sent SIGTERM as soon as it has a listening socket, and must
#   then leave and exit 0 within LEAVE_BOUND_S (10 s). The examples create their signal_set before
#   the node, so a node that listens already handles SIGTERM.
# The program runs in a network namespace of its own when one can be made (unshare -rn), so its
# fixed example ports never meet another process; otherwise on the host's loopback.
set -uo pipefail
program=$1
RUN_BOUND_S=${RUN_BOUND_S:-30}
LEAVE_BOUND_S=${LEAVE_BOUND_S:-10}

if [ "${HYPAR_DOC_NETNS:-}" != 1 ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
   unshare -rn true 2>/dev/null; then
  HYPAR_DOC_NETNS=1 exec unshare -rn "$0" "$@"
fi
if [ "${HYPAR_DOC_NETNS:-}" = 1 ]; then
  ip link set lo up || { echo "FAIL: could not bring up lo in the test's network namespace" >&2; exit 1; }
  echo "note - running in a network namespace of its own"
else
  echo "note - no network namespace here (unshare -rn failed): running on the host's loopback" >&2
fi
command -v ss >/dev/null || { echo "SKIPPED: ss (iproute2) is missing"; exit 77; }

out=$(mktemp -d)
trap 'kill -KILL "$pid" 2>/dev/null; rm -rf "$out"' EXIT
"$program" >"$out/stdout" 2>"$out/stderr" &
pid=$!

show() {
  echo "--- stdout" >&2; cat "$out/stdout" >&2
  echo "--- stderr" >&2; cat "$out/stderr" >&2
}
# Waits up to $1 seconds for the program to exit; true when it did.
wait_exit() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.05
  done
  return 0
}

deadline=$((SECONDS + RUN_BOUND_S))
while kill -0 "$pid" 2>/dev/null; do
  if ss -ltnpH 2>/dev/null | grep -q "pid=$pid,"; then
    echo "note - listening after $SECONDS s: sending SIGTERM"
    kill -TERM "$pid"
    if ! wait_exit "$LEAVE_BOUND_S"; then
      echo "FAIL: $program still running ${LEAVE_BOUND_S} s after SIGTERM" >&2
      show
      exit 1
    fi
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "FAIL: $program neither exited nor listened within ${RUN_BOUND_S} s" >&2
    show
    exit 1
  fi
  sleep 0.05
done
wait "$pid"
status=$?
if [ "$status" -ne 0 ]; then
  echo "FAIL: $program exited with status $status" >&2
  show
  exit 1
fi
show
echo "ok - $program ran and exited 0"
