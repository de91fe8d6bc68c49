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
check "no link-model anomaly in any run" no_anomalies

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
