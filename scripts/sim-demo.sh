#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The simulator demo: install what is missing, build, and run the HyParView overlay on
# the deterministic simulator (real protocol cores, virtual time):
#   1. 2,000 nodes join through one contact and shuffle for 50 rounds; the overlay graph is measured;
#   2. the same overlay loses half of its nodes at once and the survivors repair it, second by second.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
dir=$(scripts/build.sh release)
sim="$dir/apps/hypar-sim/hypar-sim"

echo "== 1. converge: hypar-sim graph --nodes 2000 --rounds 50 --seed 1" >&2
"$sim" graph --nodes 2000 --rounds 50 --seed 1 --quiet
echo >&2
echo "== 2. lose half the nodes and heal: hypar-sim churn --nodes 2000 --rounds 20 --fail 50 --observe-s 10" >&2
"$sim" churn --nodes 2000 --rounds 20 --fail 50 --observe-s 10 --seed 1 --quiet
