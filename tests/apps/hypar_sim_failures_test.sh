#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Black-box checks of "hypar-sim failures" (the HyParView paper's failure experiment): exit codes,
# CSV shape, figures in range, determinism by seed, forked levels equal to levels built anew, the SVG figure.
# Usage: hypar_sim_failures_test.sh PATH/TO/hypar-sim
set -u
sim=$1
source "$(dirname "$0")/sim_checks.sh"
# The CSV columns all_rows (sim_checks.sh) sees: $1 failed_pct, $2 avg_reliability, $3 first_msg_reliability,
# $4 msgs_until_full, $5 orphaned_at_crash, $6 cut_off_at_end, $7 stranded_at_end, $8 stranded_senders.

check "--help documents the failures command" bash -c "'$sim' --help | grep -q 'hypar-sim failures'"
check "a level above 99 exits 2" expect_exit 2 "--fail must be a comma-separated list" failures --fail 10,100
check "a malformed level list exits 2" expect_exit 2 "--fail must be a comma-separated list" failures --fail 10,,20
check "a non-numeric level exits 2" expect_exit 2 "--fail must be a comma-separated list" failures --fail ten
check "bad --crash-notice exits 2" expect_exit 2 "--crash-notice must be reset or on-send" failures --crash-notice maybe
check "--crash-notice is for failures only" expect_exit 2 "--crash-notice is for failures" plumtree --crash-notice reset
check "--plot is not for graph" expect_exit 2 "--plot is for plumtree and failures" graph --nodes 10 --rounds 1 --plot x.svg
check "--plot needs a file" expect_exit 2 "missing value after --plot" failures --plot
check "--messages 0 exits 2" expect_exit 2 "--messages must be between 1" failures --messages 0
check "an unwritable plot exits 1" expect_exit 1 "cannot open" \
  failures --nodes 50 --rounds 2 --fail 10 --messages 2 --quiet --plot "$tmp/no/such/dir.svg"

args=(failures --nodes 500 --rounds 20 --fail 10,50,90,95 --messages 30 --quiet)
out1=$(run_sim "${args[@]}" --seed 1 --plot "$tmp/failures.svg")
out2=$(run_sim "${args[@]}" --seed 1)
out3=$(run_sim "${args[@]}" --seed 2)
check "prints the CSV header" test "$(head -1 <<<"$out1")" = "failed_pct,avg_reliability,first_msg_reliability,msgs_until_full,orphaned_at_crash,cut_off_at_end,stranded_at_end,stranded_senders"
check "prints one row per level, in order" test "$(cut -d, -f1 <<<"$out1" | tail -n +2 | tr '\n' ' ')" = "10 50 90 95 "
check "reliabilities are percentages, msgs_until_full in 0..30" all_rows "$out1" \
  '$2 >= 0 && $2 <= 100 && $3 >= 0 && $3 <= 100 && $4 >= 0 && $4 <= 30'
check "orphaned and stranded survivors and their broadcasts are counts within the run" all_rows "$out1" \
  '$5 >= 0 && $5 <= 500 && $7 >= 0 && $7 <= $6 && $6 <= 500 && $8 >= 0 && $8 <= 30'
# At 90 and 95 % failed some survivors lose every peer in both views (orphaned); one that no other
# survivor picks from its passive view stays stranded (seed 1: one at 90 % when the run ends, and
# one broadcast from a stranded sender at 90 and at 95 %). At 10 % none.
check "90 and 95% failed: orphaned and stranded survivors are counted" \
  bash -c "tail -2 <<<'$out1' | awk -F, '\$5 > 0 {o++} {s += \$7 + \$8} END {exit !(o == 2 && s > 0)}'"
check "10% and 50% failed: average reliability >= 99%" all_rows "$(sed -n '1,3p' <<<"$out1")" '$2 >= 99'
check "10% failed: the first broadcast already reaches every live node" bash -c "sed -n 2p <<<'$out1' | grep -q '^10,100.000,100.000,1,0,0,0,0$'"
# At 90 and 95 % the first broadcasts reach almost nobody and the average depends mostly on how
# soon the overlay is repaired (seed 1 repairs both after two broadcasts): they tie, so only the
# light levels are compared with 95 %.
check "95% failed does worse than 10% and 50%" test "$(sort -t, -k2 -g <<<"$(sed -n '2,3p;5p' <<<"$out1")" | head -1 | cut -d, -f1)" = 95
check "same seed, same output" test "$out1" = "$out2"
# Each level crashes a forked copy of the overlay built once (two at a time by default); building
# every level's overlay anew, as the paper's method reads, must give the very same rows.
per_level=$(run_sim "${args[@]}" --seed 1 --build-per-level)
one_job=$(run_sim "${args[@]}" --seed 1 --jobs 1)
check "--build-per-level gives the same rows as the forked levels" test "$out1" = "$per_level"
check "--jobs 1 gives the same rows" test "$out1" = "$one_job"
check "--jobs is for failures" expect_exit 2 "--jobs is for failures" graph --nodes 10 --rounds 1 --jobs 2
check "another seed, another output" test "$out1" != "$out3"
check "--plot writes an SVG document" bash -c "head -2 '$tmp/failures.svg' | grep -q '<svg' && tail -1 '$tmp/failures.svg' | grep -q '</svg>'"
check "the figure has our two series and the paper's" test "$(grep -c '<polyline' "$tmp/failures.svg")" -eq 3
points_of() { grep -o 'points="[^"]*"' "$tmp/failures.svg" | sed -n "$1p" | tr ' ' '\n' | wc -l; }
check "our average and first-broadcast series have a point per level" test "$(points_of 1) $(points_of 3)" = "4 4"
check "the paper's series has its ten levels" test "$(points_of 2)" -eq 10
check "the paper's series is in the legend" grep -q 'HyParView paper' "$tmp/failures.svg"

on_send=$(run_sim failures --nodes 500 --rounds 20 --fail 50 --messages 30 --quiet --crash-notice on-send)
check "--crash-notice on-send: one row" test "$(wc -l <<<"$on_send")" -eq 2
# --broadcast plumtree: at 90 % failed Plumtree's IHAVE/GRAFT recovers the first broadcast within
# its round, which the flood loses; a first GRAFT timeout longer than the round loses it too. The
# crash comes once the join swaps are over (15 rounds): swaps still going cost its first broadcast nodes.
pt=(failures --nodes 300 --rounds 15 --fail 90 --messages 10 --quiet)
flood=$(run_sim "${pt[@]}")
plum=$(run_sim "${pt[@]}" --broadcast plumtree)
late_graft=$(run_sim "${pt[@]}" --broadcast plumtree --graft-timeout-1 2000ms)
check "--broadcast plumtree: one row" test "$(wc -l <<<"$plum")" -eq 2
check "--broadcast plumtree: the first broadcast reaches every survivor, the flood's does not" \
  bash -c "tail -1 <<<'$plum' | grep -q '^90,100.000,100.000,1,' && ! tail -1 <<<'$flood' | grep -q '^90,[0-9.]*,100.000,'"
check "--graft-timeout-1 2000ms on failures: the first broadcast is not recovered in its round" \
  all_rows "$late_graft" '$3 < 100'
check "Plumtree options on failures need --broadcast plumtree" expect_exit 2 \
  "--graft-timeout-1 on failures needs --broadcast plumtree" failures --graft-timeout-1 10ms
check "--broadcast is for failures" expect_exit 2 "--broadcast is for failures" plumtree --broadcast flood
check "a bad --broadcast exits 2" expect_exit 2 'bad value "gossip" for --broadcast' failures --broadcast gossip
# --latency: 200 ms a hop leaves a flood over 300 nodes unfinished in a 500 ms round.
slow=$(run_sim failures --nodes 300 --rounds 10 --fail 10 --messages 5 --quiet --latency 200,200)
check "--latency 200,200: even 10% failed averages below 100%" all_rows "$slow" '$2 < 100'

check "no link-model anomaly in any run" no_anomalies

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
