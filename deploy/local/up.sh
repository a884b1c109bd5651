#!/usr/bin/env bash
# Brings up the local stack: Kafka (KRaft), PostgreSQL, GreenMail, Dovecot, Prometheus.
# Idempotent: what already runs is left alone. Writes $MAILROOM_DATA_DIR/runtime.env with
# the resolved addresses, then prints ports, paths and health.
. "$(dirname "$0")/lib.sh"
for f in "$MAILROOM_ROOT"/deploy/local/services/*.sh; do . "$f"; done

"$MAILROOM_ROOT/deploy/local/fetch.sh"
"$MAILROOM_ROOT/scripts/ensure-deps.sh"

# Start everything first, then wait: the JVMs boot in parallel.
kafka_up
greenmail_up
dovecot_up
prometheus_up
postgres_up
kafka_wait
greenmail_wait
dovecot_wait
prometheus_wait
postgres_migrate

cat >"$RUNTIME_ENV" <<ENV
# Written by deploy/local/up.sh: the addresses of the running local stack.
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
KAFKA_CLUSTER_BROKERS=$(for p in $KAFKA_CLUSTER_PORTS; do printf '127.0.0.1:%s,' "$p"; done | sed 's/,$//')
DATABASE_URL=$PG_APP_URL
TEST_DATABASE_URL=$PG_TEST_URL
SMTP_HOST=127.0.0.1
SMTP_PORT=$GREENMAIL_SMTP_PORT
IMAP_HOST=127.0.0.1
IMAP_PORT=$GREENMAIL_IMAP_PORT
GREENMAIL_API_URL=http://127.0.0.1:$GREENMAIL_API_PORT
DOVECOT_IMAP_PORT=$DOVECOT_IMAP_PORT
DOVECOT_CONF=$MAILROOM_DATA_DIR/dovecot/dovecot.conf
MAIL_DOMAIN=$MAIL_DOMAIN
PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
PROMETHEUS_TARGETS_DIR=$MAILROOM_DATA_DIR/prometheus/targets
MAILROOM_DATA_DIR=$MAILROOM_DATA_DIR
ENV
"$MAILROOM_ROOT/deploy/local/status.sh"
