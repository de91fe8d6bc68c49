#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The throughput figures of docs/benchmarks.md, side by side in one run: iperf3's loopback TCP
# baseline (one stream, 64 KiB and 1 MiB writes), then bench-throughput for both transports,
# each case repeated and reported as its median, with the plot written to docs/img/throughput.svg.
# Usage: scripts/bench-throughput.sh [REPEAT]   (default 3; about 4 minutes per repeat)
set -euo pipefail
cd "$(dirname "$0")/.."

repeat=${1:-3}
scripts/install-deps.sh --bench
dir=$(scripts/build.sh release)

port=5299
echo "# iperf3 on 127.0.0.1, one stream, 4 s per run; receiver throughput in MB/s (10^6 bytes)"
echo "tool,write_size,runs_mb_per_s,median_mb_per_s"
for length in 64K 1M; do
  rates=()
  for _ in $(seq "$repeat"); do
    iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    server=$!
    sleep 0.5
    mbits=$(iperf3 -c 127.0.0.1 -p "$port" -t 4 -l "$length" -f m | awk '/receiver/ { print $(NF-2) }')
    wait "$server" || true
    rates+=("$(awk -v m="$mbits" 'BEGIN { printf "%.0f", m / 8 }')")
  done
  median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "iperf3,$length,${rates[*]},$median"
done

mkdir -p docs/img
"$dir/benchmarks/bench-throughput" --transport both --level both --repeat "$repeat" --plot docs/img/throughput.svg

# Plaintext and TLS 1.3 side by side (rows uring/uring+tls, epoll/epoll+tls), with a throwaway PKI.
pki=$(mktemp -d)
trap 'rm -rf "$pki"' EXIT
bash tests/transport/make_tls_certs.sh "$pki" >/dev/null
"$dir/benchmarks/bench-throughput" --transport both --level both --repeat "$repeat" --tls "$pki"
