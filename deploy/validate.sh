#!/usr/bin/env bash
# Validates docker-compose.yml with docker-compose 1.29 (Debian's package; installed with
# apt-get when missing, which needs root, as in CI). Usage:
#   bash deploy/validate.sh           # exit 0 when the file is valid
#   bash deploy/validate.sh --print   # also print the resolved configuration
# Without deploy/compose/mailroom.env (the secrets, not in git) it validates against
# mailroom.env.example; MAILROOM_ENV_FILE overrides both.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ensure_compose() {
  command -v docker-compose >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "validate: docker-compose is missing; install it (apt-get install docker-compose) as root" >&2
    exit 1
  fi
  echo "validate: installing docker-compose (Debian package)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be missing or stale on a fresh machine: refresh once on failure.
  apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }
  command -v docker-compose >/dev/null 2>&1 || { echo "validate: docker-compose did not install" >&2; exit 1; }
}

ensure_compose
if [ -z "${MAILROOM_ENV_FILE:-}" ]; then
  if [ -f deploy/compose/mailroom.env ]; then
    MAILROOM_ENV_FILE=deploy/compose/mailroom.env
  else
    MAILROOM_ENV_FILE=deploy/compose/mailroom.env.example
  fi
fi
export MAILROOM_ENV_FILE

compose=(docker-compose --project-directory "$root" -f "$root/docker-compose.yml")
"${compose[@]}" config -q
if [ "${1:-}" = "--print" ]; then
  "${compose[@]}" config
fi
echo "validate: docker-compose.yml is valid ($(docker-compose version --short), env file $MAILROOM_ENV_FILE)" >&2
