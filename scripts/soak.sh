#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Churn soak for a long time: tests/chaos/churn_test.sh for MINUTES (default 10) with 30 plumcast
# processes, one SIGKILLed and replaced every second (CI runs the same test for 60 s as the ctest
# test chaos-churn). The RSS warm-up is 2 minutes (past Plumtree's 90 s seen TTL) when the run is
# long enough. Needs root (a network namespace and nft); builds plumcast (release) if missing.
# Usage: scripts/soak.sh [MINUTES] [BUILD_DIR]   (exit status: the test's; 77: cannot run here)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
dir=${2:-build}
case "$minutes" in
  ''|*[!0-9]*|0) echo "soak: MINUTES must be a positive whole number (got '$minutes')" >&2; exit 2 ;;
esac
if [ ! -x "$dir/apps/plumcast/plumcast" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  cmake --build "$dir" -j "$(nproc)" --target plumcast >&2
fi
seconds=$((minutes * 60))
warmup=$((seconds >= 360 ? 120 : seconds / 3))
echo "soak: $minutes min of churn, RSS warm-up ${warmup} s" >&2
CHURN_S=$seconds WARMUP_S=$warmup exec bash tests/chaos/churn_test.sh "$dir/apps/plumcast/plumcast"
