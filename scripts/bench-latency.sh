#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The latency figures of docs/benchmarks.md: bench-latency's round trips through hypar::Node on
# both transports (idle, and under a flood on the same link, with a small send queue, and with the
# pings on a second pair of nodes), beside a plain-socket TCP ping-pong and sockperf's, all in one
# run, repeated and reported as the median of each column, with the plot written to
# docs/img/latency.svg. The load average before and after is printed: the machine is shared.
# Usage: scripts/bench-latency.sh [REPEAT] [bench-latency options...]   (default 3; about a
# minute per repeat)
set -euo pipefail
cd "$(dirname "$0")/.."

repeat=${1:-3}
shift $(( $# > 0 ? 1 : 0 ))
scripts/install-deps.sh --bench
dir=$(scripts/build.sh release bench-latency)

mkdir -p docs/img
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$dir/benchmarks/bench-latency" --repeat "$repeat" --plot docs/img/latency.svg "$@"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
