#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Black-box checks of the hypar-sim command line: exit codes, CSV shape, determinism by seed.
# Usage: hypar_sim_cli_test.sh PATH/TO/hypar-sim
set -u
sim=$1
source "$(dirname "$0")/sim_checks.sh"

check "--help exits 0 and shows usage" bash -c "'$sim' --help | grep -q 'usage: hypar-sim graph'"
check "no command exits 2" expect_exit 2 "missing command"
check "unknown command exits 2" expect_exit 2 "unknown command" frobnicate
check "unknown option exits 2" expect_exit 2 "unknown option --bogus" graph --nodes 10 --rounds 1 --bogus 3
check "non-numeric value exits 2" expect_exit 2 'bad value "ten"' graph --nodes ten --rounds 1
check "missing --rounds exits 2" expect_exit 2 "graph needs --nodes and --rounds" graph --nodes 10
check "out-of-range value exits 2" expect_exit 2 "--fail must be between 0 and 100" churn --fail 101
check "invalid protocol options exit 2 with the problem" expect_exit 2 "prwl (9) must not exceed arwl (6)" \
  graph --nodes 10 --rounds 1 --prwl 9
check "--version exits 0 and names the program" bash -c "'$sim' --version | grep -qx 'hypar-sim [0-9]*\.[0-9]*\.[0-9]*'"
check "--help wins over a bad argument" bash -c "'$sim' graph --nodes ten --help | grep -q 'usage: hypar-sim graph'"
check "missing value exits 2" expect_exit 2 "missing value after --rounds" graph --nodes 10 --rounds
check "--fail list for failures is checked" expect_exit 2 "--fail must be a comma-separated list" failures --fail 10,,20
check "--plot only for plumtree and failures" expect_exit 2 "--plot is for plumtree and failures" churn --plot x.svg
check "--keepalive is refused where keepalive is off" expect_exit 2 "--keepalive is for churn, plumtree and partition" \
  graph --nodes 10 --rounds 1 --keepalive 1s
check "protocol options are the node's (range)" expect_exit 2 "--k-active must be between 0 and 64" churn --k-active 65
check "protocol options are the node's (duration)" expect_exit 2 'bad duration "1h" for --shuffle-period' \
  churn --shuffle-period 1h
check "--join-swaps is the node's, default 8" bash -c "'$sim' --help | grep -A1 -- '--join-swaps' | grep -q '\[8\]'"
check "--join-swaps 0 changes the graph" \
  test "$(run_sim graph --nodes 300 --rounds 5 --seed 3 --quiet --join-swaps 0)" != "$(run_sim graph --nodes 300 --rounds 5 --seed 3 --quiet)"
# plumtree and partition measure a settled overlay: by default they build until the swaps are over.
plumtree_run() { run_sim plumtree --nodes 60 --messages 3 --quiet "$@"; }
check "plumtree builds join_swaps + 7 rounds by default" test "$(plumtree_run)" = "$(plumtree_run --rounds 15)"
check "plumtree's default is not 5 rounds with swaps on" test "$(plumtree_run)" != "$(plumtree_run --rounds 5)"
check "plumtree builds 5 rounds without join swaps" \
  test "$(plumtree_run --join-swaps 0)" = "$(plumtree_run --join-swaps 0 --rounds 5)"

# 15 rounds: after the join swaps (each swap leaves links half made for a few latencies, so the
# views are symmetric at an instant only once they are over).
out1=$(run_sim graph --nodes 300 --rounds 15 --seed 3 --quiet)
out2=$(run_sim graph --nodes 300 --rounds 15 --seed 3 --quiet)
out3=$(run_sim graph --nodes 300 --rounds 15 --seed 4 --quiet)
check "graph prints the metric,value header" test "$(head -1 <<<"$out1")" = "metric,value"
for metric in connected symmetric clustering_coefficient avg_shortest_path diameter active_size_ passive_size_ in_degree_; do
  check "graph prints $metric" grep -q "^$metric" <<<"$out1"
done
for metric in degree connected clustering_coefficient avg_shortest_path diameter; do
  check "graph prints the random regular baseline's $metric" grep -q "^random_regular_$metric," <<<"$out1"
done
check "graph: the baseline has the overlay's degree and is connected" \
  bash -c "grep -qx 'random_regular_degree,5' <<<'$out1' && grep -qx 'random_regular_connected,true' <<<'$out1'"
check "graph: --active-size sets the baseline's degree" \
  bash -c "'$sim' graph --nodes 100 --rounds 1 --active-size 4 --quiet | grep -qx 'random_regular_degree,4'"
check "graph: another seed, another baseline" test "$(grep '^random_regular_avg' <<<"$out1")" != "$(grep '^random_regular_avg' <<<"$out3")"
check "graph prints what the build cost" \
  bash -c "grep -qE '^connections_opened,[1-9][0-9]*$' <<<'$out1' && grep -qE '^protocol_messages,[1-9][0-9]*$' <<<'$out1'"
# Overlapping joins (1 ms apart) make nodes swap links, one new connection or more each: the cost shows.
opened() { run_sim graph --nodes 300 --rounds 10 --seed 3 --quiet --join-interval-ms 1 "$@" | sed -n 's/^connections_opened,//p'; }
check "graph: the join swaps' connections are counted" test "$(opened)" -gt "$(opened --join-swaps 0)"
check "graph: connected and symmetric" bash -c "grep -qx 'connected,true' <<<'$out1' && grep -qx 'symmetric,true' <<<'$out1'"
check "graph: same seed, same output" test "$out1" = "$out2"
check "graph: another seed, another output" test "$out1" != "$out3"

churn=$(run_sim churn --nodes 300 --rounds 15 --fail 30 --observe-s 20 --quiet)
check "churn prints its header" test "$(head -1 <<<"$churn")" = \
  "time_s,alive,connected,symmetric,dead_in_active,full_active,short_by_one,avg_active"
check "churn prints one row per second" test "$(wc -l <<<"$churn")" -eq 22
check "churn heals: last row connected, symmetric, no dead neighbours" \
  bash -c "tail -1 <<<'$churn' | grep -q '^20,210,true,true,0,'"
# --latency reaches every command's simulator (plumtree, failures and partition are checked in their tests).
check "graph --latency 20,20 changes the overlay" \
  test "$(run_sim graph --nodes 300 --rounds 5 --seed 3 --quiet --latency 20,20)" != "$out1"
check "churn --latency 20,20 changes the repair" \
  test "$(run_sim churn --nodes 300 --rounds 5 --fail 30 --observe-s 20 --quiet --latency 20,20)" != "$churn"

check "no link-model anomaly in any run" no_anomalies

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
