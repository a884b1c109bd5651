#!/usr/bin/env bash
# `npm run bench`: every benchmark, each printing its figures next to a baseline
# measured in the same run (these machines are noisy: compare side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
deploy/local/up.sh >/dev/null
set -a
# shellcheck disable=SC1091
. "${MAILROOM_DATA_DIR:-.data}/runtime.env"
set +a
echo "== intake: POST /api/tickets vs empty Fastify routes (then: every ticket in Postgres?)"
# --postgres: after the load, a ticket-store of the bench's own stores the run's tickets.
npx --no-install tsx apps/intake-api/bench/intake.bench.ts --postgres "$@"
echo "== local classifier: predictions/s and training time vs the TF-IDF + LR baseline"
npx --no-install tsx libs/classifier/bench/predict.bench.ts
echo "== dashboard summary: rollups vs GROUP BY over 1,000,000 tickets"
npx --no-install tsx apps/analytics/bench/summary.bench.ts
echo "== imap-poller: ingest of 10,000 messages vs a plain imapflow fetch; RSS with a 25 MB attachment"
npx --no-install tsx apps/imap-poller/bench/ingest.bench.ts
echo "== categorizer path: both local models per ticket, fused vs two passes vs the baseline pair"
npx --no-install tsx libs/classifier/bench/categorize.bench.ts
