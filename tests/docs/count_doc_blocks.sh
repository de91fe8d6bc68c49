#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage: count_doc_blocks.sh EXTRACTED FILE...
# Fails when the number of ```cpp complete fences in the files (counted here with grep, however
# they are indented) differs from the number of blocks the CMake extraction found: a marked block
# that the extraction missed (an indented fence, a typo in the closing fence) is never silently
# left uncompiled.
set -euo pipefail
extracted=$1
shift
found=$(cat "$@" | grep -cE '^[[:space:]]*```[[:space:]]*cpp[[:space:]]+complete' || true)
if [ "$found" -ne "$extracted" ]; then
  echo "FAIL: $found \`\`\`cpp complete blocks in the docs, but $extracted extracted (fences must start their line);" \
       "these are the marked lines:" >&2
  grep -nE '```[[:space:]]*cpp[[:space:]]+complete' "$@" >&2 || true
  exit 1
fi
if [ "$found" -eq 0 ]; then
  echo "FAIL: no \`\`\`cpp complete block in the docs at all: the examples are no longer checked" >&2
  exit 1
fi
echo "ok - $found complete C++ blocks in the docs, all extracted and built by the doc: tests"
