# SPDX-License-Identifier: Apache-2.0
# Shared by the hypar-sim black-box tests (sourced after `sim` is set): `check` runs one named
# check and counts failures; `expect_exit` runs hypar-sim and matches its exit code and stderr;
# `all_rows` checks a condition on every data row of a CSV; $tmp is a work directory removed on exit.
# `run_sim ARGS...` runs hypar-sim keeping its stderr in $tmp/stderr, and `no_anomalies` then checks
# that no run reported a link-model anomaly (the simulator's model says there are none).
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
all_rows() { awk -F, -v bad=0 "NR > 1 && !($2) { bad = 1 } END { exit bad }" <<<"$1"; }  # all_rows CSV AWK_CONDITION
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
expect_exit() {  # expect_exit CODE STDERR_PATTERN ARGS...
  local code=$1 pattern=$2; shift 2
  local err rc
  err=$("$sim" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq "$code" ] && grep -q -- "$pattern" <<<"$err"
}
run_sim() { "$sim" "$@" 2>>"$tmp/stderr"; }
no_anomalies() { ! grep -q 'link-model anomal' "$tmp/stderr" 2>/dev/null; }
