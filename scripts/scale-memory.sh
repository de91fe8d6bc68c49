#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where bench-scale's per-node memory goes: one worker process of N nodes (default 200) under
# valgrind's massif, then the heap at its peak grouped by the first two hypar frames of each
# allocation site (docs/benchmarks.md, "Memory per node").
# Usage: scripts/scale-memory.sh [NODES] [uring|epoll]   (needs build/benchmarks/bench-scale)
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-200} transport=${2:-uring}
scripts/install-deps.sh --bench
out=$(mktemp -d)
valgrind --tool=massif --trace-children=yes --massif-out-file="$out/massif.%p" --depth=30 --threshold=0.2 \
  build/benchmarks/bench-scale --nodes "$nodes" --processes 1 --transport "$transport" --idle-seconds 3 \
  --limit-seconds 150 2>/dev/null
worker=$(ls -S "$out"/massif.* | head -1)  # the worker's profile is the larger one
python3 - "$worker" "$nodes" <<'PY'
import collections, re, sys
lines = open(sys.argv[1]).read().split('\n')
nodes = int(sys.argv[2])
start = next(i for i, l in enumerate(lines) if l == 'heap_tree=peak') + 1
pat = re.compile(r'^( *)n(\d+): (\d+) (.*)$')
def parse(i):
    m = pat.match(lines[i])
    node = {'b': int(m.group(3)), 'd': m.group(4), 'c': []}
    i += 1
    for _ in range(int(m.group(2))):
        child, i = parse(i)
        node['c'].append(child)
    return node, i
root, _ = parse(start)
def frames(path):
    names = [re.sub(r'\(.*', '', re.sub(r'^0x[0-9A-F]+: ', '', p)) for p in path]
    return ' < '.join([n for n in names if 'hypar::' in n and 'allocate' not in n and 'aligned_new' not in n][:2]) or (names[-1] if names else '?')
sites = collections.Counter()
def walk(node, path):
    own = node['b'] - sum(c['b'] for c in node['c'])
    if own > 0 and path:
        sites[frames(path)] += own
    for c in node['c']:
        walk(c, path + [c['d']])
walk(root, [])
print(f"peak heap {root['b'] / 1024:.0f} KiB for {nodes} nodes ({root['b'] / 1024 / nodes:.1f} KiB per node)")
for site, b in sites.most_common(30):
    print(f"{b / 1024:9.1f} KiB {b / 1024 / nodes:6.2f} KiB/node  {site[:160]}")
PY
rm -rf "$out"
