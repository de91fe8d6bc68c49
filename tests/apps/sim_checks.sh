# SPDX-License-Identifier: Apache-2.0
# Shared by the hypar-sim black-box tests (sourced after `sim` is set): `check` runs one named
# check and counts failures; `expect_exit` runs hypar-sim and matches its exit code and stderr.
failures=0
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
