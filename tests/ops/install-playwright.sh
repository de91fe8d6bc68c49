#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs playwright-core (the browser driver of tests/ops/status_page_test.sh; it drives the
# Debian chromium package, it downloads no browser) into DIR/node_modules, from the npm registry,
# only if it is not there yet. Idempotent. Exit 0 when DIR holds it afterwards.
# Usage: tests/ops/install-playwright.sh DIR
set -euo pipefail
dir=$1
version=1.65.1   # pinned: a version known to drive Debian 12's chromium
if [ -f "$dir/node_modules/playwright-core/package.json" ]; then exit 0; fi
command -v npm >/dev/null || { echo "install-playwright: npm is missing" >&2; exit 1; }
mkdir -p "$dir"
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: never fetch a browser build; the test uses /usr/bin/chromium.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dir" --no-audit --no-fund --silent \
  "playwright-core@$version" >&2
