#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS 1.3 throughput as a share of plaintext's, measured side by side (docs/benchmarks.md, "TLS"):
# ROUNDS runs of bench-throughput at node level, each running the plaintext case and then the same
# case over TLS, on both transports, with a test CA made for the run. Prints every round's rows, each
# round's TLS / plaintext ratio per transport and size, then the median of those ratios: one run
# says little on a machine whose speed varies by 2x between minutes.
# Usage: scripts/bench-tls.sh [ROUNDS] [SIZE...]   (default 10 rounds of 65536; ~10 s per size and round)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-10}
shift $(( $# > 0 ? 1 : 0 ))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(65536)
dir=$(scripts/build.sh release bench-throughput)
pki=$(mktemp -d)
trap 'rm -rf "$pki"' EXIT
bash tests/transport/make_tls_certs.sh "$pki" >/dev/null

size_args=()
for size in "${sizes[@]}"; do size_args+=(--size "$size"); done
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=$(mktemp)
for round in $(seq "$rounds"); do
  "$dir/benchmarks/bench-throughput" --tls "$pki" --level node --seconds 1 --connections 1 "${size_args[@]}" |
    grep -E '^(uring|epoll)' | sed "s/^/$round,/" | tee -a "$rows"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "transport,size,tls_over_plaintext_per_round,median"
# Rows are round,transport,size,connections,msgs_per_s,...; a TLS row's transport ends in "+tls".
awk -F, '
  { key = $2 "," $3; sub(/\+tls/, "", key)
    if ($2 ~ /\+tls$/) tls[$1 "," key] = $5; else plain[$1 "," key] = $5; keys[key] = 1 }
  END {
    for (key in keys) {
      n = 0
      for (k in plain) {
        split(k, part, ","); if (part[2] "," part[3] != key || !((k) in tls) || plain[k] == 0) continue
        ratio[++n] = tls[k] / plain[k]
      }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
      list = ""; for (i = 1; i <= n; i++) list = list sprintf("%s%.2f", i > 1 ? " " : "", ratio[i])
      median = n % 2 ? ratio[(n + 1) / 2] : (ratio[n / 2] + ratio[n / 2 + 1]) / 2
      printf "%s,%s,%.2f\n", key, list, median
    }
  }' "$rows" | sort
rm -f "$rows"
