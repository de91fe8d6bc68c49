#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-throughput of the working tree against an older commit, side by side in one run: the
# old commit is built from `git archive` into a temporary directory, then both binaries run in
# turn (old, new, old, new, ...) so that load on the machine hits both alike. Node level, both
# transports, 64 B and 64 KiB messages over one connection; prints every run, then the median of
# the runs per case (msgs/s, and msgs per CPU-second, which is steadier on a busy machine).
# Usage: scripts/bench-compare.sh BASE_COMMIT [ROUNDS]   (default 3; ~25 s per round)
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/bench-compare.sh BASE_COMMIT [ROUNDS]}
rounds=${2:-3}
launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
build() {  # build SOURCE_DIR BUILD_DIR: bench-throughput, RelWithDebInfo like scripts/build.sh release
  cmake -S "$1" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >&2
  cmake --build "$2" -j "$(nproc)" --target bench-throughput >&2
}
# OLD_BIN=path: a bench-throughput already built from BASE_COMMIT (skips that build).
old=${OLD_BIN:-}
if [ -z "$old" ]; then
  tmp=${TMPDIR:-/tmp}/hypar-bench-base-$(git rev-parse --short "$base")
  mkdir -p "$tmp/src"
  git archive "$base" | tar -x -C "$tmp/src"
  build "$tmp/src" "$tmp/build"
  old=$tmp/build/benchmarks/bench-throughput
fi
build . build
new=build/benchmarks/bench-throughput
uptime >&2
echo "binary,round,transport,size,connections,msgs_per_s,mb_per_s,cpu_s"
runs=$(for r in $(seq "$rounds"); do
  for b in old new; do
    bin=$old; [ "$b" = new ] && bin=$new
    "$bin" --transport both --level node --size 64 --size 65536 --connections 1 --repeat 1 2>/dev/null |
      grep -v -e '^#' -e '^transport' | sed "s/^/$b,$r,/"
  done
done)
echo "$runs"
echo
echo "# medians over $rounds runs"
echo "transport,size,old_msgs_per_s,new_msgs_per_s,new/old,old_msgs_per_cpu_s,new_msgs_per_cpu_s,new/old"
echo "$runs" | awk -F, '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  { key = $3 "," $4; rate[$1, key] = rate[$1, key] " " $6; per_cpu[$1, key] = per_cpu[$1, key] " " ($6 * 2.5 / $8); keys[key] = 1 }
  END {
    for (k in keys) {
      o = median(rate["old", k]); n = median(rate["new", k]); oc = median(per_cpu["old", k]); nc = median(per_cpu["new", k])
      printf "%s,%.0f,%.0f,%.3f,%.0f,%.0f,%.3f\n", k, o, n, n / o, oc, nc, nc / oc
    }
  }' | sort
