#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Black-box checks of hypar-sim partition: argument errors, CSV shape, phases, determinism by seed,
# and that the overlay is one component again after the heal (two without healing: a 40 s cut,
# since after a shorter one requests still in flight at the heal sometimes link the sides by chance).
# Usage: hypar_sim_partition_test.sh PATH/TO/hypar-sim
set -u
sim=$1
source "$(dirname "$0")/sim_checks.sh"

check "--help lists partition" bash -c "'$sim' --help | grep -q 'hypar-sim partition'"
check "a malformed --split exits 2" expect_exit 2 "--split must be a percentage 1..99 or Kn" partition --split 100
check "--split 0n exits 2" expect_exit 2 "--split must be" partition --split 0n
check "--split with every node isolated exits 2" expect_exit 2 "must leave nodes on the other side" \
  partition --nodes 10 --split 10n
check "--split is for partition only" expect_exit 2 "--split is for partition" churn --split 50

run() { run_sim partition --nodes 100 --cut-s 40 --observe-s 20 --quiet "$@"; }
out1=$(run --seed 3)
out2=$(run --seed 3)
out3=$(run --seed 4)
check "prints its header" test "$(head -1 <<<"$out1")" = "time_s,phase,components,cross_links,full_views,messages,link_changes"
check "one row per virtual second, from 0" test "$(wc -l <<<"$out1")" -eq 62
check "phases: before, then cut, then healed" bash -c "
  sed -n 2p <<<'$out1' | grep -q '^0,before,1,' &&
  sed -n 3p <<<'$out1' | grep -q '^1,cut,' && sed -n 42p <<<'$out1' | grep -q '^40,cut,' &&
  sed -n 43p <<<'$out1' | grep -q '^41,healed,'"
check "split at the end of the cut: no link across" bash -c "sed -n 42p <<<'$out1' | grep -Eq '^40,cut,[2-9],0,'"
check "one component at the end" bash -c "tail -1 <<<'$out1' | grep -q '^60,healed,1,'"
check "same seed, same output" test "$out1" = "$out2"
check "another seed, another output" test "$out1" != "$out3"
# The paper's join (--join-swaps 0): re-joins during the cut start join swaps, which can link the healed sides.
off=$(run --seed 3 --heal-memory 0 --join-swaps 0)
check "without healing the sides stay apart" bash -c "tail -1 <<<'$off' | grep -q '^60,healed,2,0,'"
one=$(run --seed 3 --split 1n)
check "--split 1n isolates one node and it comes back" bash -c "
  sed -n 42p <<<'$one' | grep -q '^40,cut,2,0,' && tail -1 <<<'$one' | grep -Eq '^60,healed,1,[45],'"
check "--latency 30,30 changes the run" test "$(run --seed 3 --latency 30,30)" != "$out1"
check "no link-model anomaly in any run" no_anomalies

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
