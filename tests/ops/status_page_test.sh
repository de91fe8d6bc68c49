#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The status page (GET /) in headless Chromium: a 3-node cluster with metrics endpoints; the page
# of node 0 must render its views and chart, and a neighbour link must open that neighbour's page
# (status_page_check.mjs). Skips (exit 77) without chromium, node or curl, or when playwright-core
# cannot be installed from npm (tests/ops/install-playwright.sh, into the build tree).
# Usage: status_page_test.sh PATH/TO/hypar [PLAYWRIGHT_DIR]
set -u
HYPAR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PLAYWRIGHT_DIR=${2:-$(cd "$(dirname "$HYPAR")/../.." && pwd)/ops-browser}
source "$HERE/ops_cluster.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser) || skip "chromium is not installed (scripts/install-deps.sh --ops)"
command -v node >/dev/null || skip "node (Node.js) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
"$HERE/install-playwright.sh" "$PLAYWRIGHT_DIR" || skip "playwright-core could not be installed into $PLAYWRIGHT_DIR"

N=3
for ((i = 0; i < N; i++)); do
  joins=()
  [ "$i" -gt 0 ] && joins+=(--join "127.0.0.1:${PORTS[0]}")
  start_node "$i" "$HYPAR" --name "page$i" --keepalive 200ms --status-every 300ms "${joins[@]}" ||
    { fail "node $i could not start"; exit 1; }
done
all_peered() {
  local i
  for ((i = 0; i < N; i++)); do [ "$(last_view "$i" active | wc -l)" -ge 2 ] || return 1; done
}
wait_until 20 all_peered && ok "3 nodes, fully meshed" || { fail "the cluster did not form"; exit 1; }

page=$(http_get "${MPORTS[0]}" /) || fail "GET / failed"
grep -q 'src=\|href="http' <<<"$page" && fail "the page loads an external resource"
timeout 90 node "$HERE/status_page_check.mjs" "$PLAYWRIGHT_DIR" "$CHROMIUM" "http://127.0.0.1:${MPORTS[0]}/" \
  "$WORK/chromium-profile" || fail "the page check in Chromium failed"
stop_all_gracefully 0 1 2
[ "$FAILURES" -eq 0 ]
