# SPDX-License-Identifier: Apache-2.0
# Active views of node processes, replayed from the link_up / link_down lines each prints, and the
# questions the process tests ask of them (sourced, not run; by tests/chaos/chaos.sh and the
# tests in tests/apps). Needs OUTS[INDEX] (the process's stdout file) and IDS[INDEX] (its IP:PORT
# identity), both set by start_proc (tests/apps/procs.sh) and start_in_ns (tests/chaos/chaos.sh);
# ERRS[INDEX] for show_views.

# active_of INDEX: the active view of process INDEX (one IP:PORT per line), replayed from its
# link_up / link_down lines (the node reports exactly the changes of its active view).
active_of() {
  grep -F '"event":"link_' "${OUTS[$1]}" 2>/dev/null | awk -F'"' '
    /"event":"link_up"/   { up[$8] = 1 }
    /"event":"link_down"/ { delete up[$8] }
    END { for (p in up) print p }'
}

# edges INDEX...: "node ID" and "edge ID PEER" lines for the given processes (edges only to peers
# among them: a link to a process outside the set, e.g. a dead one, does not connect anything).
edges() {
  local i p
  declare -A member=()
  for i in "$@"; do member[${IDS[$i]}]=1; done
  for i in "$@"; do
    echo "node ${IDS[$i]}"
    for p in $(active_of "$i"); do [ -n "${member[$p]:-}" ] && echo "edge ${IDS[$i]} $p"; done
  done
}

# components INDEX...: prints the number of connected components of the active-view graph
# among these processes (a link counts in both directions, as a TCP connection does).
components() { components_holding "$*" "$@"; }
# components_holding "WANTED" INDEX...: in the graph of the processes INDEX..., the number of
# components that hold a WANTED process (the others may relay: e.g. a node still joining).
components_holding() {
  local wanted=($1) i; shift
  { edges "$@"; for i in "${wanted[@]}"; do echo "want ${IDS[$i]}"; done; } | awk '
    $1 == "node" { nodes[$2] = 1; next }
    $1 == "want" { want[$2] = 1; next }
    $1 == "edge" { adj[$2] = adj[$2] " " $3; adj[$3] = adj[$3] " " $2 }
    END {
      c = 0
      for (s in want) {
        if (s in seen) continue
        c++; seen[s] = 1; q[0] = s; h = 0; t = 1
        while (h < t) {
          n = split(adj[q[h++]], nb, " ")
          for (j = 1; j <= n; j++) if ((nb[j] in nodes) && !(nb[j] in seen)) { seen[nb[j]] = 1; q[t++] = nb[j] }
        }
      }
      print c
    }'
}
connected() { [ "$(components "$@")" -eq 1 ]; }

# cross_links "A-INDEXES" "B-INDEXES": active links from a process of one group to one of the other.
cross_links() {
  local a=($1) b=($2) i p n=0
  declare -A in_b=()
  for i in "${b[@]}"; do in_b[${IDS[$i]}]=1; done
  for i in "${a[@]}"; do
    for p in $(active_of "$i"); do [ -n "${in_b[$p]:-}" ] && n=$((n + 1)); done
  done
  echo "$n"
}

min_active() {  # min_active INDEX...: the smallest active view among them
  local i n m=1000000
  for i in "$@"; do n=$(active_of "$i" | wc -l); [ "$n" -lt "$m" ] && m=$n; done
  echo "$m"
}

show_views() {
  local i
  for i in "$@"; do
    echo "  $i ${IDS[$i]}: active=[$(active_of "$i" | tr '\n' ' ')]"
    grep -E '\[(warn|error)\]' "${ERRS[$i]}" 2>/dev/null | tail -2 | sed 's/^/    /'
  done
}
