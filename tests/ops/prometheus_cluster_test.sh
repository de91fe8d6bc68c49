#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A 5-node `hypar node` cluster scraped by a real Prometheus server on loopback:
#   1. every node's /metrics passes `promtool check metrics`;
#   2. Prometheus (generated config, its own temporary storage, 1 s scrapes) reports
#      hypar_active_peers >= 1 for all 5 nodes through its HTTP API;
#   3. after a SIGKILL of one node, each survivor that had it as an active peer counts it in
#      hypar_link_down_total{reason="failed"} (its TCP connection reset), no survivor counts a
#      graceful leave, and Prometheus sees the killed target down.
#   4. with PATH/TO/plumcast: two plumcast processes; after one broadcast, the receiver's /metrics
#      (with the Plumtree families and the hop histogram) passes promtool and counts the delivery.
# Skips (exit 77) without prometheus, promtool or curl (scripts/install-deps.sh --ops), or python3.
# Usage: prometheus_cluster_test.sh PATH/TO/hypar [PATH/TO/plumcast]
set -u
HYPAR=$1
PLUMCAST=${2:-}
source "$(dirname "$0")/ops_cluster.sh"

# A malformed --metrics-listen is a usage error (exit 2) naming the option.
"$HYPAR" node --listen 127.0.0.1:7000 --metrics-listen nonsense >/dev/null 2>"$WORK/usage.err"
rc=$?
[ "$rc" -eq 2 ] && grep -q 'bad address "nonsense" for --metrics-listen' "$WORK/usage.err" &&
  ok "--metrics-listen nonsense: exit 2 with a clear line" || fail "--metrics-listen nonsense: exit $rc, $(head -1 "$WORK/usage.err")"
for tool in prometheus promtool curl python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/install-deps.sh --ops)"
done

N=5
NODE_ARGS=(--keepalive 200ms --status-every 300ms --shuffle-period 2s)
for ((i = 0; i < N; i++)); do
  joins=()
  [ "$i" -gt 0 ] && joins+=(--join "127.0.0.1:${PORTS[0]}")
  start_node "$i" "$HYPAR" --name "n$i" "${NODE_ARGS[@]}" "${joins[@]}" || { fail "node $i could not start"; exit 1; }
done
all_peered() {
  local i
  for ((i = 0; i < N; i++)); do [ "$(last_view "$i" active | wc -l)" -ge 2 ] || return 1; done
}
wait_until 20 all_peered && ok "5 nodes, each with >= 2 active peers" || { fail "the cluster did not form"; exit 1; }

for ((i = 0; i < N; i++)); do
  if ! http_get "${MPORTS[$i]}" /metrics >"$WORK/metrics.$i"; then
    fail "node $i: GET /metrics failed"
  elif out=$(promtool check metrics <"$WORK/metrics.$i" 2>&1); then
    ok "node $i: promtool check metrics accepts /metrics"
  else
    fail "node $i: promtool check metrics: $out"
  fi
done

# ---- Prometheus, on loopback with a generated configuration and its own storage
PROM_PORT=$(free_port) || { fail "no free port for Prometheus"; exit 1; }
targets=$(for ((i = 0; i < N; i++)); do printf "'127.0.0.1:%s'," "${MPORTS[$i]}"; done)
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hypar
    static_configs:
      - targets: [${targets%,}]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
HELPER_PIDS+=("$PROM_PID")
query() {  # query PROMQL -> the JSON answer of /api/v1/query
  curl -sf --max-time 5 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1"
}
# "instance value" lines of a vector result
samples() { query "$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    print(r["metric"].get("instance", "-"), r["value"][1])'; }
five_peered() { [ "$(samples 'hypar_active_peers >= 1' 2>/dev/null | wc -l)" -eq "$N" ]; }
if wait_until 30 five_peered; then
  ok "Prometheus reports hypar_active_peers >= 1 for all 5 nodes"
  samples 'hypar_active_peers' | sed 's/^/     /'
else
  fail "Prometheus did not report hypar_active_peers for all 5 nodes within 30 s"
  samples 'hypar_active_peers'; tail -5 "$WORK/prometheus.log"
fi

# ---- kill one node: its neighbours count the link as failed
VICTIM=4
declare -a HAD=() BEFORE=()
for ((i = 0; i < N - 1; i++)); do
  HAD[$i]=0
  last_view "$i" active | grep -qx "127.0.0.1:${PORTS[$VICTIM]}" && HAD[$i]=1
  BEFORE[$i]=$(metric "${MPORTS[$i]}" 'hypar_link_down_total{reason="failed"}')
done
kill -KILL "${PIDS[$VICTIM]}"; wait "${PIDS[$VICTIM]}" 2>/dev/null; PIDS[$VICTIM]=""
counted() {
  local i now
  for ((i = 0; i < N - 1; i++)); do
    [ "${HAD[$i]}" -eq 1 ] || continue
    now=$(metric "${MPORTS[$i]}" 'hypar_link_down_total{reason="failed"}')
    [ "${now:-0}" -gt "${BEFORE[$i]:-0}" ] || return 1
  done
}
if wait_until 10 counted; then
  ok "every neighbour of the killed node counted link_down{reason=\"failed\"} ($(printf '%s' "${HAD[@]}" | tr -cd 1 | wc -c) neighbours)"
else
  fail "not every neighbour of the killed node counted link_down{reason=\"failed\"}"
fi
for ((i = 0; i < N - 1; i++)); do
  g=$(metric "${MPORTS[$i]}" 'hypar_link_down_total{reason="graceful"}')
  [ "${g:-0}" -eq 0 ] || fail "node $i counted $g graceful leaves (nobody left)"
done
victim_down() { [ "$(samples "up{instance=\"127.0.0.1:${MPORTS[$VICTIM]}\"} == 0" 2>/dev/null | wc -l)" -eq 1 ]; }
wait_until 10 victim_down && ok "Prometheus sees the killed node's target down" || fail "Prometheus still sees the killed node up"
failed_total() { samples 'sum(hypar_link_down_total{reason="failed"})' | awk '{ print $2 }'; }
seen_by_prometheus() { [ "$(failed_total 2>/dev/null)" -ge 1 ] 2>/dev/null; }
wait_until 10 seen_by_prometheus && ok "Prometheus: sum(hypar_link_down_total{reason=\"failed\"}) = $(failed_total)" ||
  fail "Prometheus never saw the failed links"

kill -TERM "$PROM_PID"; wait "$PROM_PID" 2>/dev/null
stop_all_gracefully 0 1 2 3

# ---- Plumtree's metrics, from plumcast
if [ -n "$PLUMCAST" ]; then
  : >"$WORK/quiet.in"
  start_ops_proc 10 "$WORK/quiet.in" "$PLUMCAST" --name p0 || { fail "plumcast 0 could not start"; exit 1; }
  # p1 broadcasts one line as it starts; if that is before its link to p0 is up, p0 still gets it
  # from the IHAVE a new neighbour receives for every cached message.
  echo "hello from p1" >"$WORK/hello.in"
  start_ops_proc 11 "$WORK/hello.in" "$PLUMCAST" --name p1 --join "127.0.0.1:${PORTS[10]}" ||
    { fail "plumcast 1 could not start"; exit 1; }
  delivered() { [ "$(metric "${MPORTS[10]}" hypar_plumtree_delivered_total)" = 1 ] 2>/dev/null; }
  if wait_until 10 delivered; then
    ok "plumcast: hypar_plumtree_delivered_total 1 after one broadcast"
  else
    fail "plumcast: no delivery counted"; http_get "${MPORTS[10]}" /metrics | grep plumtree_delivered
  fi
  http_get "${MPORTS[10]}" /metrics >"$WORK/plumcast.metrics"
  grep -q '^hypar_plumtree_delivery_hops_count 1$' "$WORK/plumcast.metrics" && ok "plumcast: the hop histogram counted it" ||
    fail "plumcast: hop histogram count is not 1"
  if out=$(promtool check metrics <"$WORK/plumcast.metrics" 2>&1); then
    ok "plumcast: promtool check metrics accepts /metrics with the Plumtree families"
  else
    fail "plumcast: promtool check metrics: $out"
  fi
  stop_all_gracefully 10 11
fi
[ "$FAILURES" -eq 0 ]
