#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An event hook (--on-peer-up/--on-peer-down of hypar node, flooder, plumcast) that keeps an
# nginx upstream block equal to the node's active view: each neighbour's application endpoint,
# from its metadata key "app" (give every node --meta app=HOST:PORT), then runs $RELOAD if set.
#
#   hypar node ... --meta app=10.0.0.5:8080 \
#     --on-peer-up 'RELOAD="nginx -s reload" nginx-upstream.sh /etc/nginx/conf.d/hypar-upstream.conf' \
#     --on-peer-down 'RELOAD="nginx -s reload" nginx-upstream.sh /etc/nginx/conf.d/hypar-upstream.conf'
# and in a server block:  location / { proxy_pass http://hypar_peers; }
#
# State: one file per neighbour in UPSTREAM.conf.d/; the block is rebuilt from them into
# UPSTREAM.conf.tmp and renamed into place (neither name matches an `include conf.d/*.conf`).
# Hooks of one node run one at a time; give each node a file of its own, and remove
# UPSTREAM.conf.d when the node (re)starts (its hooks replay its active view from empty). An
# endpoint that is not HOST:PORT (it comes from a peer, and would otherwise be pasted into nginx's
# configuration) is refused with a message on stderr and the peer left out.
set -eu
conf=${1:?usage: nginx-upstream.sh UPSTREAM.conf [UPSTREAM-NAME]}
name=${2:-hypar_peers}
dir=$conf.d
mkdir -p "$dir"
entry=$dir/$(printf '%s' "${HYPAR_PEER:?not run as a hypar hook}" | tr -c 'A-Za-z0-9.' '_')
rm -f "$entry"
case "${HYPAR_EVENT:?not run as a hypar hook}" in
  peer_up)
    endpoint=${HYPAR_PEER_META_APP:-}
    case "$endpoint" in
      '') echo "nginx-upstream: $HYPAR_PEER advertises no app endpoint" >&2 ;;
      *[!A-Za-z0-9.:_\[\]-]* | *:) echo "nginx-upstream: $HYPAR_PEER: bad app endpoint refused" >&2 ;;
      *:*) printf '%s\n' "$endpoint" >"$entry" ;;
      *) echo "nginx-upstream: $HYPAR_PEER: app endpoint without a port refused" >&2 ;;
    esac ;;
  peer_down) ;;
  *) echo "nginx-upstream: unknown HYPAR_EVENT $HYPAR_EVENT" >&2; exit 2 ;;
esac
{
  printf 'upstream %s {\n' "$name"
  found=
  for f in "$dir"/*; do
    [ -e "$f" ] || continue
    printf '  server %s;\n' "$(cat "$f")"
    found=1
  done
  # nginx refuses an upstream without servers: a placeholder marked down keeps the file valid.
  [ -n "$found" ] || printf '  server 127.0.0.1:1 down;\n'
  printf '}\n'
} >"$conf.tmp"
mv "$conf.tmp" "$conf"
if [ -n "${RELOAD:-}" ]; then sh -c "$RELOAD"; fi
