#!/usr/bin/env bash
# `npm start`: installs what is missing, brings up the local stack and runs the whole
# pipeline in one process on embedded defaults (local model, no API key needed).
# Ctrl-C stops the pipeline; `npm run stack:down` stops the services.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
deploy/local/up.sh
# The agent console, served by intake-api at /
[[ -f apps/console/dist/index.html ]] || npm run --silent build:console >&2
set -a
# shellcheck disable=SC1091
. "${MAILROOM_DATA_DIR:-.data}/runtime.env"
set +a
# A local admin key so the API can be tried at once (the API listens on 127.0.0.1 only).
# Set BOOTSTRAP_API_KEYS to your own "name:scope+scope:key" list to replace it.
export BOOTSTRAP_API_KEYS="${BOOTSTRAP_API_KEYS:-local-admin:admin:mr-local-admin-key}"
# The secret that signs reply tokens: generated once per data directory unless set.
secret_file="${MAILROOM_DATA_DIR:-.data}/reply-token-secret"
[[ -s $secret_file ]] || (umask 077 && head -c 32 /dev/urandom | base64 >"$secret_file")
export REPLY_TOKEN_SECRET="${REPLY_TOKEN_SECRET:-$(cat "$secret_file")}"
echo "[start] API: http://127.0.0.1:${INTAKE_API_PORT:-18080}/docs  key: ${BOOTSTRAP_API_KEYS##*:}" >&2
exec npx --no-install tsx apps/launcher/src/main.ts "$@"
