#!/usr/bin/env bash
# `npm test`: installs what is missing, brings up the local stack (idempotent) and runs
# every workspace's tests against the real services. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
deploy/local/up.sh
# The agent console's browser test drives Debian's Chromium.
deploy/local/install-chromium.sh
exec npx --no-install vitest run "$@"
