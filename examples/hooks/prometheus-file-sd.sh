#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An event hook (--on-peer-up/--on-peer-down of hypar node, flooder, plumcast) that keeps a
# Prometheus file_sd target list equal to the node's active view: each neighbour's metrics
# endpoint, from its metadata key "metrics" (give every node --meta metrics=HOST:PORT).
#
#   hypar node ... --meta metrics=10.0.0.5:9100 \
#     --on-peer-up 'prometheus-file-sd.sh /etc/prometheus/hypar/targets.json' \
#     --on-peer-down 'prometheus-file-sd.sh /etc/prometheus/hypar/targets.json'
# and in prometheus.yml:
#   scrape_configs: [{job_name: hypar, file_sd_configs: [{files: [/etc/prometheus/hypar/*.json]}]}]
#
# State: one file per neighbour in TARGETS.d/ holding its endpoint; the list is rebuilt from them
# and renamed into place, so Prometheus never reads a half-written file. Hooks of one node run one
# at a time; give each node a file of its own, and remove TARGETS.d when the node (re)starts (its
# hooks replay its active view from empty). An endpoint that is not HOST:PORT (it comes from a
# peer) is refused with a message on stderr and the peer left out.
set -eu
targets=${1:?usage: prometheus-file-sd.sh TARGETS.json}
dir=$targets.d
mkdir -p "$dir"
entry=$dir/$(printf '%s' "${HYPAR_PEER:?not run as a hypar hook}" | tr -c 'A-Za-z0-9.' '_')
rm -f "$entry"
case "${HYPAR_EVENT:?not run as a hypar hook}" in
  peer_up)
    endpoint=${HYPAR_PEER_META_METRICS:-}
    case "$endpoint" in
      '') echo "prometheus-file-sd: $HYPAR_PEER advertises no metrics endpoint" >&2 ;;
      *[!A-Za-z0-9.:_\[\]-]* | *:) echo "prometheus-file-sd: $HYPAR_PEER: bad metrics endpoint refused" >&2 ;;
      *:*) printf '%s\n' "$endpoint" >"$entry" ;;
      *) echo "prometheus-file-sd: $HYPAR_PEER: metrics endpoint without a port refused" >&2 ;;
    esac ;;
  peer_down) ;;
  *) echo "prometheus-file-sd: unknown HYPAR_EVENT $HYPAR_EVENT" >&2; exit 2 ;;
esac
{
  printf '[{"labels":{"job":"hypar"},"targets":['
  sep=
  for f in "$dir"/*; do
    [ -e "$f" ] || continue
    printf '%s"%s"' "$sep" "$(cat "$f")"
    sep=,
  done
  printf ']}]\n'
} >"$targets.tmp"
mv "$targets.tmp" "$targets"
