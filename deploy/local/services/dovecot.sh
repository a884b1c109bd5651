# Dovecot (Debian's dovecot-imapd) on its own port, for IMAP compatibility tests.
# Runs unprivileged mail processes as nobody with maildirs under a 1777 directory.

dovecot_conf() { echo "$MAILROOM_DATA_DIR/dovecot/dovecot.conf"; }

dovecot_write_config() {
  local dir="$MAILROOM_DATA_DIR/dovecot" u
  mkdir -p "$dir/base" "$dir/state" "$dir/home"
  chmod 1777 "$dir/home"
  : >"$dir/passwd"
  for u in $MAIL_USERS; do echo "$u:{PLAIN}$u" >>"$dir/passwd"; done
  local user=nobody group=nogroup
  [[ $(id -u) == 0 ]] || { user=$(id -un); group=$(id -gn); }
  cat >"$(dovecot_conf)" <<CONF
base_dir = $dir/base
state_dir = $dir/state
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
log_path = $LOG_DIR/dovecot.log
mail_location = maildir:~/Maildir
mail_uid = $user
mail_gid = $group
first_valid_uid = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $dir/passwd
}
userdb {
  driver = static
  args = uid=$user gid=$group home=$dir/home/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
}

dovecot_up() {
  if pid_alive dovecot && port_open "$DOVECOT_IMAP_PORT"; then say "dovecot already running"; return 0; fi
  port_open "$DOVECOT_IMAP_PORT" && die "port $DOVECOT_IMAP_PORT is taken by another process"
  command -v dovecot >/dev/null || die "dovecot is not installed (deploy/local/fetch.sh installs it)"
  dovecot_write_config
  start_bg dovecot "$LOG_DIR/dovecot.log" dovecot -F -c "$(dovecot_conf)"
}
dovecot_wait() {
  wait_until 20 dovecot port_open "$DOVECOT_IMAP_PORT" || { tail -20 "$LOG_DIR/dovecot.log" >&2; die "dovecot did not start"; }
}
dovecot_down() {
  if pid_alive dovecot; then doveadm -c "$(dovecot_conf)" stop >/dev/null 2>&1 || true; fi
  stop_pid dovecot 10
}
dovecot_status() { pid_alive dovecot && port_open "$DOVECOT_IMAP_PORT"; }
