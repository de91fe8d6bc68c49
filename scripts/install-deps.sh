#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages hypar needs, only those missing. Idempotent, non-interactive;
# runs as root or through sudo. Debian 12 (bookworm) or newer.
set -euo pipefail

# Usage: scripts/install-deps.sh [--bench] [--ops]
#   --bench adds iperf3, the loopback baseline of scripts/bench-throughput.sh, sockperf, the
#           round-trip floor of scripts/bench-latency.sh, and valgrind (massif) and heaptrack for
#           bench-scale's memory breakdown (docs/benchmarks.md)
#   --ops   adds what the operations tests use (tests/ops/): prometheus (server + promtool) and
#           chromium for the status page test (its npm driver: tests/ops/install-playwright.sh)
# clang + libclang-rt-dev: the libFuzzer targets (scripts/fuzz.sh); libclang-rt-dev follows the
# default clang (libclang-rt-14-dev on bookworm).
# dnsmasq-base: the DNS server of tests/apps/hypar_discovery_test.sh (names and SRV records)
packages=(cmake ninja-build g++ pkg-config libasio-dev liburing-dev libfmt-dev libssl-dev catch2 libcli11-dev
          clang libclang-rt-dev dnsmasq-base)
packages+=(iproute2 nftables)  # the chaos tests (tests/chaos/): network namespaces, veth, nft rules
packages+=(openssl tcpdump)  # the TLS tests: a test CA made at test time, the loopback capture test
for flag in "$@"; do
  case "$flag" in
    --bench) packages+=(iperf3 sockperf valgrind heaptrack) ;;
    --ops) packages+=(prometheus chromium curl) ;;
    *) echo "install-deps: unknown flag $flag" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present" >&2
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
