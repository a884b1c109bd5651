#!/usr/bin/env bash
# Stops the local stack (and the 3-broker Kafka cluster if it runs). Data stays in
# $MAILROOM_DATA_DIR; pass --purge to delete it.
. "$(dirname "$0")/lib.sh"
for f in "$MAILROOM_ROOT"/deploy/local/services/*.sh; do . "$f"; done

stop_pid pipeline 30
prometheus_down
dovecot_down
greenmail_down
kafka_down
for pidf in "$RUN_DIR"/kafka-cluster-*.pid; do [[ -e $pidf ]] && stop_pid "$(basename "$pidf" .pid)" 30; done
postgres_down
if [[ ${1:-} == --purge ]]; then rm -rf "$MAILROOM_DATA_DIR"; say "removed $MAILROOM_DATA_DIR"; fi
say "stopped"
