#!/usr/bin/env bash
# What the browser tests need: Debian's Chromium (at /usr/bin/chromium) and plain fonts.
# The Python `playwright` package comes with the dev dependencies; it drives this Chromium via
#   executable_path="/usr/bin/chromium"
#   args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
#         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Never run `playwright install`: Playwright's own browser builds are not used (nor reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-deps.sh chromium
