#!/usr/bin/env bash
# `npm run bench:e2e`: the whole pipeline under load (apps as separate processes), next to
# the bare Kafka produce/consume rate measured in the same run. Options go to the bench:
# --n 3000, --rate 200 (open loop; 0 = as fast as it goes), --llm (fake Anthropic, 300 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
deploy/local/up.sh >/dev/null
exec npx --no-install tsx bench/e2e/pipeline.bench.ts "$@"
