#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The method of the other chaos tests: they rebuild each node's active view by replaying its
# link_up / link_down lines (plumcast prints no status line). Here 8 `hypar node` processes, which
# print both, run in a namespace of their own; one is SIGKILLed; once the views are stable, the
# replayed view of every survivor must equal the active view of its latest status line, and the
# survivors must be one component by either.
# Usage: views_test.sh PATH/TO/hypar
set -u
HYPAR=$1
source "$(dirname "$0")/chaos.sh"
chaos_require

NS="hycv$$"
ns_create "$NS"
ALL=(0 1 2 3 4 5 6 7)
for i in "${ALL[@]}"; do
  joins=()
  [ "$i" -gt 0 ] && joins+=(--join "${IDS[0]}")
  [ "$i" -gt 1 ] && joins+=(--join "${IDS[$((i - 1))]}")
  start_in_ns "$i" "$NS" 127.0.0.1 $((7000 + i)) /dev/null "$HYPAR" node --name "n$i" --keepalive 200ms \
    --status-every 200ms --shuffle-period 1s "${joins[@]}" || { fail "node $i did not start"; exit 1; }
done
SURV=(0 1 2 4 5 6 7)
formed() { connected "${ALL[@]}" && [ "$(min_active "${ALL[@]}")" -ge 2 ]; }
wait_until 30 formed || { fail "the overlay did not form within 30 s"; exit 1; }
kill_proc 3
ok "8 nodes formed an overlay; node 3 killed"

# The replay and the status line agree for every survivor (a status line printed after the last
# link change: checked twice 0.5 s apart, so that both saw the same stable view).
agree() {
  local i
  for i in "${SURV[@]}"; do
    [ "$(active_of "$i" | sort)" = "$(last_view "$i" active | sort)" ] || return 1
  done
}
stable_agree() { agree && sleep 0.5 && agree; }
if wait_until 15 stable_agree; then
  ok "every survivor's replayed view equals its status line's active view"
else
  for i in "${SURV[@]}"; do
    echo "  $i: replay [$(active_of "$i" | sort | tr '\n' ' ')] status [$(last_view "$i" active | sort | tr '\n' ' ')]"
  done
  fail "a replayed view differs from the status line"
fi
# Components from the status lines alone.
status_components() {
  local i p
  { for i in "${SURV[@]}"; do
      echo "node ${IDS[$i]}"
      for p in $(last_view "$i" active); do echo "edge ${IDS[$i]} $p"; done
    done; } | awk '
    $1 == "node" { nodes[$2] = 1; next }
    { adj[$2] = adj[$2] " " $3; adj[$3] = adj[$3] " " $2 }
    END { c = 0; for (s in nodes) { if (s in seen) continue; c++; seen[s] = 1; q[0] = s; h = 0; t = 1
            while (h < t) { n = split(adj[q[h++]], nb, " "); for (j = 1; j <= n; j++)
              if ((nb[j] in nodes) && !(nb[j] in seen)) { seen[nb[j]] = 1; q[t++] = nb[j] } } }
          print c }'
}
sc=$(status_components) rc=$(components "${SURV[@]}")
[ "$sc" -eq 1 ] && [ "$rc" -eq 1 ] && ok "the survivors are one component by the status lines and by the replay" ||
  fail "components: $sc by the status lines, $rc by the replay"

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
