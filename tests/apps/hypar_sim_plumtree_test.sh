#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Black-box checks of "hypar-sim plumtree": exit codes, CSV shape, figures, determinism by seed.
# Usage: hypar_sim_plumtree_test.sh PATH/TO/hypar-sim
set -u
sim=$1
source "$(dirname "$0")/sim_checks.sh"
# The CSV columns all_rows (sim_checks.sh) sees: $2 reliability, $3 rmr, $4 ldh.

check "--help documents the plumtree command" bash -c "'$sim' --help | grep -q 'hypar-sim plumtree'"
check "bad --senders exits 2" expect_exit 2 "--senders must be 1 or many" plumtree --senders 3
check "--messages 0 exits 2" expect_exit 2 "--messages must be between 1" plumtree --messages 0

out1=$(run_sim plumtree --nodes 300 --messages 30 --seed 3 --quiet --plot "$tmp/plumtree.svg")
out2=$(run_sim plumtree --nodes 300 --messages 30 --seed 3 --quiet)
out3=$(run_sim plumtree --nodes 300 --messages 30 --seed 4 --quiet)
check "prints the CSV header" test "$(head -1 <<<"$out1")" = "round,reliability,rmr,ldh,payload_msgs,control_msgs"
check "prints one row per message" test "$(wc -l <<<"$out1")" -eq 31
check "rows are numbered from 1" bash -c "sed -n 2p <<<'$out1' | grep -q '^1,' && tail -1 <<<'$out1' | grep -q '^30,'"
check "every broadcast reaches every node" all_rows "$out1" '$2 == 100.00'
check "after 5 rounds the tree wastes less than 0.1 payload per node" all_rows "$(sed '2,6d' <<<"$out1")" '$3 < 0.1'
check "same seed, same output" test "$out1" = "$out2"
check "another seed, another output" test "$out1" != "$out3"
check "--plot writes an SVG document" bash -c "head -2 '$tmp/plumtree.svg' | grep -q '<svg' && tail -1 '$tmp/plumtree.svg' | grep -q '</svg>'"
check "the figure has reliability, RMR and LDH panels" test "$(grep -c '<polyline' "$tmp/plumtree.svg")" -eq 3
check "each panel has a point per round" test "$(grep -o 'points="[^"]*"' "$tmp/plumtree.svg" | head -1 | tr ' ' '\n' | wc -l)" -eq 30

many=$(run_sim plumtree --nodes 300 --messages 20 --senders many --seed 5 --quiet)
check "many senders: every broadcast reaches every node" all_rows "$many" '$2 == 100.00'

failing=$(run_sim plumtree --nodes 300 --messages 20 --fail 20 --fail-per-round 1 --senders many --seed 6 --quiet)
check "with crashes: one row per message" test "$(wc -l <<<"$failing")" -eq 21
check "with 20% crashed and one more per round, the last 10 rounds reach every live node" \
  all_rows "$(sed '2,11d' <<<"$failing")" '$2 == 100.00'
# --latency: equal latencies make the first arrival the fewest-hop one, so the tree the first
# broadcast builds is a shortest-path tree and every later broadcast from node 0 has the first's
# LDH (1-10 ms latencies give longer paths after the first); 200 ms per hop leaves a 500 ms round
# two hops.
equal=$(run_sim plumtree --nodes 300 --messages 10 --seed 3 --quiet --latency 5,5)
check "--latency 5,5: every round has the first round's LDH" \
  test "$(tail -n +2 <<<"$equal" | cut -d, -f4 | sort -u | wc -l)" -eq 1
check "--latency 5,5 changes the output" test "$equal" != "$(sed -n '1,11p' <<<"$out1")"
slow=$(run_sim plumtree --nodes 300 --messages 5 --seed 3 --quiet --latency 200,200 --round-ms 500)
check "--latency 200,200: at most 2 hops and part of the nodes per 500 ms round" all_rows "$slow" '$4 <= 2 && $2 < 100'
check "a malformed --latency exits 2" expect_exit 2 "--latency must be MIN,MAX in milliseconds" plumtree --latency 5
check "--latency MIN > MAX exits 2" expect_exit 2 "--latency must be MIN,MAX" plumtree --latency 10,1

# The Plumtree options reach every node's core: each changes this run (crashes and many senders,
# so that every mechanism works), and invalid values exit 2.
base=(plumtree --nodes 300 --messages 20 --fail 20 --fail-per-round 2 --senders many --seed 6 --quiet)
ref=$(run_sim "${base[@]}")
for option in "--optimization-threshold 1" "--ihave-batch-interval 300ms" "--graft-timeout-1 400ms" "--graft-timeout-2 5ms"; do
  # shellcheck disable=SC2086
  check "$option changes the run" test "$(run_sim "${base[@]}" $option)" != "$ref"
done
check "--optimization-threshold 0 exits 2" expect_exit 2 "--optimization-threshold must be between 1" \
  plumtree --optimization-threshold 0
check "--graft-timeout-1 0 exits 2" expect_exit 2 "invalid Plumtree options: graft_timeout_1 must be positive" \
  plumtree --graft-timeout-1 0
check "a malformed --ihave-batch-interval exits 2" expect_exit 2 'bad duration "soon" for --ihave-batch-interval' \
  plumtree --ihave-batch-interval soon
check "Plumtree options are not for graph" expect_exit 2 "--graft-timeout-2 is for plumtree and failures" \
  graph --nodes 10 --rounds 1 --graft-timeout-2 10ms
check "--help lists the Plumtree options" bash -c "'$sim' --help | grep -q -- '--optimization-threshold' &&
  '$sim' --help | grep -q -- '--ihave-batch-interval' && '$sim' --help | grep -q -- '--graft-timeout-2'"

check "no link-model anomaly in any run" no_anomalies

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
