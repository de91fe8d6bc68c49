#!/usr/bin/env bash
# Installs the Debian packages hypar needs, only those missing. Idempotent, non-interactive;
# runs as root or through sudo. Debian 12 (bookworm) or newer.
set -euo pipefail

# Usage: scripts/install-deps.sh [--bench]   (--bench adds iperf3, the loopback baseline of
# scripts/bench-throughput.sh)
packages=(cmake ninja-build g++ clang pkg-config libasio-dev liburing-dev libfmt-dev libssl-dev catch2)
if [ "${1:-}" = "--bench" ]; then packages+=(iperf3); fi

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
