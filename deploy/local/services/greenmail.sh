# GreenMail standalone: SMTP + IMAP in one JVM, users created at start (login = address).

greenmail_users() {
  local u list=()
  for u in $MAIL_USERS; do list+=("$u:$u@$MAIL_DOMAIN"); done
  (IFS=,; echo "${list[*]}")
}

greenmail_up() {
  if pid_alive greenmail && port_open "$GREENMAIL_IMAP_PORT"; then say "greenmail already running"; return 0; fi
  for p in "$GREENMAIL_SMTP_PORT" "$GREENMAIL_IMAP_PORT" "$GREENMAIL_API_PORT"; do
    port_open "$p" && die "port $p is taken by another process"
  done
  # Jakarta Mail 2.1 looks its StreamProvider up through ServiceLoader (a scan of the jar)
  # for every message it parses unless this property names the class: that lookup was 44%
  # of GreenMail's CPU (JFR) while the e2e bench's acknowledgements came in.
  start_bg greenmail "$LOG_DIR/greenmail.log" java -Xms64m -Xmx384m -XX:+UseSerialGC \
    -Djakarta.mail.util.StreamProvider=org.eclipse.angus.mail.util.MailStreamProvider \
    -Dgreenmail.hostname=127.0.0.1 \
    -Dgreenmail.smtp.port="$GREENMAIL_SMTP_PORT" -Dgreenmail.imap.port="$GREENMAIL_IMAP_PORT" \
    -Dgreenmail.api.hostname=127.0.0.1 -Dgreenmail.api.port="$GREENMAIL_API_PORT" \
    -Dgreenmail.users="$(greenmail_users)" -Dgreenmail.users.login=email \
    -jar "$GREENMAIL_JAR" # (any -Dgreenmail.verbose, even =false, turns on TRACE logging)
}
greenmail_ready() {
  pid_alive greenmail && port_open "$GREENMAIL_SMTP_PORT" && port_open "$GREENMAIL_IMAP_PORT" &&
    curl -fsS -m 2 "http://127.0.0.1:$GREENMAIL_API_PORT/api/service/readiness" >/dev/null 2>&1
}
greenmail_wait() {
  wait_until 60 greenmail greenmail_ready || { tail -30 "$LOG_DIR/greenmail.log" >&2; die "greenmail did not become ready"; }
}
greenmail_down() { stop_pid greenmail 15; }
greenmail_status() { greenmail_ready; }
