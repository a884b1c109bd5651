#!/usr/bin/env bash
# `npm test`: installs what is missing, brings up the local stack (idempotent) and runs
# every workspace's tests against the real services. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
deploy/local/up.sh
exec npx --no-install vitest run "$@"
