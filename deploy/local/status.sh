#!/usr/bin/env bash
# Reports every service of the local stack: port, health, log. Exit 1 if any is down.
. "$(dirname "$0")/lib.sh"
for f in "$MAILROOM_ROOT"/deploy/local/services/*.sh; do . "$f"; done

down=0
row() { # NAME CHECK ADDRESS LOG
  local state=up
  if ! $2; then state=DOWN; down=1; fi
  printf '  %-11s %-5s %-38s %s\n' "$1" "$state" "$3" "$4"
}
pg_addr() { if [[ -n ${DATABASE_URL:-} ]]; then echo "DATABASE_URL"; else postgres_server_url | sed 's#.*@##'; fi; }
pg_check() { if [[ -n ${DATABASE_URL:-} ]]; then psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; else postgres_status; fi; }

echo "mailroom local stack (data: $MAILROOM_DATA_DIR)"
row kafka kafka_status "127.0.0.1:$KAFKA_PORT (controller :$((KAFKA_PORT + 1)))" "$LOG_DIR/kafka.log"
row postgres pg_check "$(pg_addr)" "$(pid_alive postgres && echo "$LOG_DIR/postgres.log" || echo "(server of the machine)")"
row greenmail greenmail_status "smtp :$GREENMAIL_SMTP_PORT imap :$GREENMAIL_IMAP_PORT api :$GREENMAIL_API_PORT" "$LOG_DIR/greenmail.log"
row dovecot dovecot_status "imap 127.0.0.1:$DOVECOT_IMAP_PORT" "$LOG_DIR/dovecot.log"
row prometheus prometheus_status "http://127.0.0.1:$PROMETHEUS_PORT" "$LOG_DIR/prometheus.log"
echo "  apps: intake-api :$INTAKE_API_PORT, metrics imap-poller :$IMAP_POLLER_METRICS_PORT ticket-store :$TICKET_STORE_METRICS_PORT categorizer :$CATEGORIZER_METRICS_PORT router :$ROUTER_METRICS_PORT notifier :$NOTIFIER_METRICS_PORT analytics :$ANALYTICS_METRICS_PORT"
echo "  mail users (password = name): $(for u in $MAIL_USERS; do printf '%s@%s ' "$u" "$MAIL_DOMAIN"; done)"
echo
exit $down
