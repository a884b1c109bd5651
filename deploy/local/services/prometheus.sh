# Prometheus (Debian's package) scraping every app. Targets come from file_sd files in
# $MAILROOM_DATA_DIR/prometheus/targets: apps.json lists the apps' ports from stack.env;
# tests may drop their own file there (Prometheus watches the folder).

prometheus_write_config() {
  local dir="$MAILROOM_DATA_DIR/prometheus"
  mkdir -p "$dir/targets" "$dir/tsdb"
  sed -e "s/__SCRAPE_INTERVAL__/$PROMETHEUS_SCRAPE_INTERVAL/" -e "s#__TARGETS_DIR__#$dir/targets#" \
    -e "s#__RULES_DIR__#$MAILROOM_ROOT/deploy/prometheus/rules#" \
    -e "s/__PROMETHEUS_PORT__/$PROMETHEUS_PORT/" \
    "$MAILROOM_ROOT/deploy/prometheus/prometheus.local.yml" >"$dir/prometheus.yml"
  local app port entries=()
  for app in intake-api:$INTAKE_API_PORT imap-poller:$IMAP_POLLER_METRICS_PORT \
    ticket-store:$TICKET_STORE_METRICS_PORT categorizer:$CATEGORIZER_METRICS_PORT \
    router:$ROUTER_METRICS_PORT notifier:$NOTIFIER_METRICS_PORT analytics:$ANALYTICS_METRICS_PORT; do
    port=${app##*:}
    entries+=("{\"targets\":[\"127.0.0.1:$port\"],\"labels\":{\"app\":\"${app%%:*}\"}}")
  done
  (IFS=,; echo "[${entries[*]}]") >"$dir/targets/apps.json"
  promtool check config "$dir/prometheus.yml" >>"$LOG_DIR/prometheus.log" 2>&1 ||
    { tail -20 "$LOG_DIR/prometheus.log" >&2; die "promtool rejected $dir/prometheus.yml"; }
}

prometheus_up() {
  if pid_alive prometheus && port_open "$PROMETHEUS_PORT"; then say "prometheus already running"; return 0; fi
  port_open "$PROMETHEUS_PORT" && die "port $PROMETHEUS_PORT is taken by another process"
  command -v prometheus >/dev/null || die "prometheus is not installed (deploy/local/fetch.sh installs it)"
  prometheus_write_config
  local dir="$MAILROOM_DATA_DIR/prometheus"
  start_bg prometheus "$LOG_DIR/prometheus.log" prometheus --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/tsdb" --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    --web.enable-lifecycle --storage.tsdb.retention.time=2d
}
prometheus_ready() { curl -fsS -m 2 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; }
prometheus_wait() {
  wait_until 30 prometheus prometheus_ready || { tail -20 "$LOG_DIR/prometheus.log" >&2; die "prometheus did not become ready"; }
}
prometheus_down() { stop_pid prometheus 15; }
prometheus_status() { pid_alive prometheus && prometheus_ready; }
