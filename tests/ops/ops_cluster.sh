# SPDX-License-Identifier: Apache-2.0
# Helpers of the operations tests (sourced): start `hypar node` processes on 127.0.0.1 with their
# metrics endpoint at a fixed offset from their listen port (the offset the status page assumes
# for its neighbour links), fetch over HTTP, clean up. Builds on tests/apps/procs.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../apps/procs.sh"

METRICS_OFFSET=1000
declare -a MPORTS=()  # metrics port of each node

skip() { echo "SKIP - $*"; FAILURES=0; exit 77; }

# start_node INDEX HYPAR ARGS...: `hypar node` via start_ops_proc.
start_node() {
  local i=$1 hypar=$2; shift 2
  start_ops_proc "$i" /dev/null "$hypar" node "$@"
}

# start_ops_proc INDEX STDIN_FILE PROGRAM ARGS...: like start_proc, with --metrics-listen at
# port + METRICS_OFFSET (a new pair of ports until both are free).
start_ops_proc() {
  start_proc_with ops_listen "$@" || return 1
  MPORTS[$1]=$((PORTS[$1] + METRICS_OFFSET))
}
ops_listen() { printf '%s\n' --listen "127.0.0.1:$1" --metrics-listen "127.0.0.1:$(($1 + METRICS_OFFSET))"; }

# http GET of http://127.0.0.1:PORT/PATH, body on stdout; fails on a non-2xx status.
http_get() { curl -sf --max-time 5 "http://127.0.0.1:$1$2"; }

# metric PORT SAMPLE: the value of one sample line of the node's /metrics (e.g.
# 'hypar_link_down_total{reason="failed"}'), empty if absent.
metric() { http_get "$1" /metrics | awk -v s="$2" 'index($0, s " ") == 1 { print $2 }'; }

# A free TCP port on 127.0.0.1 for a helper server (Prometheus, the browser's debugging port).
free_port() {
  local p
  for _ in $(seq 50); do
    next_port
    p=$NEXT_PORT
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
