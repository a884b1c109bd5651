#!/usr/bin/env bash
# Installs what the local stack runs, once: Kafka and GreenMail jars from Maven Central
# into $MAILROOM_CACHE_DIR (so later starts need no network), Dovecot and Prometheus
# from Debian's packages. Idempotent: does nothing when everything is present.
. "$(dirname "$0")/lib.sh"

fetch_jars() { # NAME POM_DIR DEST [EXTRA_FLAGS]
  local name=$1 pom=$2 dest=$3 extra=${4:-}
  if [[ -f "$dest/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn is required to fetch $name (apt-get install maven)"
  say "fetching $name into $dest (once)"
  rm -rf "$dest"
  # shellcheck disable=SC2086
  mvn -q -B -f "$pom/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime $extra -DoutputDirectory="$dest" >"$LOG_DIR/fetch-$name.log" 2>&1 ||
    { cat "$LOG_DIR/fetch-$name.log" >&2; die "could not fetch $name"; }
  touch "$dest/.complete"
}

fetch_jars kafka "$MAILROOM_ROOT/deploy/local/maven/kafka" "$KAFKA_LIB"
fetch_jars greenmail "$MAILROOM_ROOT/deploy/local/maven/greenmail" "$(dirname "$GREENMAIL_JAR")" -DexcludeTransitive=true

missing=()
command -v dovecot >/dev/null || missing+=(dovecot-imapd)
command -v prometheus >/dev/null || missing+=(prometheus)
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "install ${missing[*]} (Debian packages) and run again"
  say "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >"$LOG_DIR/apt.log" 2>&1 || true
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 ||
    { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi
exit 0
