#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --log-format json on a real `hypar node`: every stderr line must parse with python3's json.loads
# and have ts (RFC 3339 UTC, ms), level, component, node (the node's IP:PORT once it listens), msg
# and fields, in that order. Node A gets a peer (B) and a connection sending garbage, so that it
# logs from several components; then both leave on SIGTERM.
# Usage: json_log_test.sh PATH/TO/hypar
set -u
HYPAR=$1
source "$(dirname "$0")/procs.sh"
trap '' PIPE
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }

A=0 B=1
JSON=(--log-format json --log-level debug --keepalive 200ms)
start_proc $A /dev/null "$HYPAR" node --name 'A "quoted" \ name' "${JSON[@]}" || { fail "A did not start"; exit 1; }
start_proc $B /dev/null "$HYPAR" node --name B --join "127.0.0.1:${PORTS[$A]}" "${JSON[@]}" || { fail "B did not start"; exit 1; }
if wait_until 15 has_line "${OUTS[$B]}" '"event":"joined"'; then ok "B joined A"; else fail "B did not join A"; fi

# Garbage (with bytes that are not UTF-8) makes A log a refused connection.
( exec 3<>"/dev/tcp/127.0.0.1/${PORTS[$A]}" && printf '\xff\xfe"\\\n\x01garbage' >&3 && sleep 0.3 ) 2>/dev/null
if wait_until 5 grep -q "refused connection" "${ERRS[$A]}"; then ok "A logged the refused connection"; else fail "A did not log the refused connection"; fi

before=$FAILURES
stop_all_gracefully $A $B
[ "$FAILURES" -eq "$before" ] && ok "A and B left gracefully"

for i in $A $B; do
  if python3 - "${ERRS[$i]}" "127.0.0.1:${PORTS[$i]}" <<'PY'; then ok "process $i: every stderr line is a JSON log object"; else fail "process $i: bad JSON log lines"; fi
import json, re, sys
path, node_id = sys.argv[1], sys.argv[2]
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
lines = open(path, "rb").read().decode("utf-8").splitlines()  # must be valid UTF-8
bad = 0
components = set()
for line in lines:
    try:
        obj = json.loads(line)
        assert list(obj) == ["ts", "level", "component", "node", "msg", "fields"], list(obj)
        assert ts.match(obj["ts"]), obj["ts"]
        assert obj["level"] in ("debug", "info", "warn", "error"), obj["level"]
        assert obj["component"], "empty component"
        assert obj["node"] in ("", node_id), obj["node"]
        assert isinstance(obj["msg"], str) and obj["msg"], "empty msg"
        assert obj["fields"] == {}, obj["fields"]
        components.add(obj["component"])
    except Exception as e:
        bad += 1
        print(f"    bad line ({e}): {line!r}")
print(f"    {len(lines)} lines, components: {sorted(components)}")
sys.exit(1 if bad or not lines or not any(json.loads(l)["node"] == node_id for l in lines) else 0)
PY
done
if grep -q '"msg":"signal 15: leaving"' "${ERRS[$A]}"; then ok "the app's own log lines are JSON too"; else fail "no JSON \"signal 15: leaving\" line"; fi

if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
echo "all checks passed"
