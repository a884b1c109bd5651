#!/usr/bin/env bash
# `npm start`: installs what is missing, brings up the local stack and runs the whole
# pipeline in one process on embedded defaults (local model, no API key needed).
# Ctrl-C stops the pipeline; `npm run stack:down` stops the services.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
deploy/local/up.sh
set -a
# shellcheck disable=SC1091
. "${MAILROOM_DATA_DIR:-.data}/runtime.env"
set +a
exec npx --no-install tsx apps/launcher/src/main.ts "$@"
