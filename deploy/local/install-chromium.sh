#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser end-to-end test (test/console).
# Idempotent: does nothing when /usr/bin/chromium is already there. Playwright's own
# browser download is not used: only the Debian package reaches this machine and CI.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

command -v apt-get >/dev/null || { echo "install Debian's chromium package and run again" >&2; exit 1; }
SUDO=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "root or sudo is needed to install chromium" >&2; exit 1; }
  SUDO=(sudo -n)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "[console] installing chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
# A stale package list is not fatal: the install below reports what really failed.
"${SUDO[@]}" apt-get update -q >"$log" 2>&1 || true
"${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >>"$log" 2>&1 ||
  { tail -20 "$log" >&2; echo "apt-get install chromium failed" >&2; exit 1; }
[[ -x "$CHROMIUM" ]] || { echo "chromium installed but $CHROMIUM is missing" >&2; exit 1; }
