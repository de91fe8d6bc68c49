#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What every hypar executable's command line does alike (apps/hypar/cli_options.hpp): --version
# prints "NAME X.Y.Z" and exits 0; --help and -h print the usage and exit 0; an unknown option
# exits 2 with one line "NAME: unknown ... --bogus" first on stderr and the usage after it.
# Usage: common_cli_test.sh VERSION EXECUTABLE...
set -u
version=$1; shift
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
for exe in "$@"; do
  name=$(basename "$exe")
  check "$name --version" bash -c "[ \"\$('$exe' --version)\" = '$name $version' ]"
  check "$name --help exits 0 with the usage" bash -c "'$exe' --help | grep -q '^usage: $name'"
  check "$name -h exits 0 with the usage" bash -c "'$exe' -h | grep -q '^usage: $name'"
  check "$name --help lists --version" bash -c "'$exe' --help | grep -q '^  --version '"
  err=$("$exe" --bogus 2>&1 >/dev/null); rc=$?
  check "$name --bogus exits 2" test "$rc" -eq 2
  first=$(head -1 <<<"$err")
  # "NAME: unknown option --bogus" ("hypar: unknown command "--bogus" (expected "node")" for hypar)
  check "$name --bogus: first line \"$first\"" bash -c '[[ $1 == "$2: unknown "*--bogus* ]]' _ "$first" "$name"
  check "$name --bogus: then the usage" grep -q "^usage: $name" <<<"$err"
done
if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
