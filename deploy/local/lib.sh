# Shared helpers of the local-stack scripts. Sourced, never run.
set -euo pipefail

MAILROOM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=stack.env
. "$MAILROOM_ROOT/deploy/local/stack.env"
RUN_DIR="$MAILROOM_DATA_DIR/run"
LOG_DIR="$MAILROOM_DATA_DIR/logs"
KAFKA_LIB="$MAILROOM_CACHE_DIR/kafka-$KAFKA_VERSION"
GREENMAIL_JAR="$MAILROOM_CACHE_DIR/greenmail-$GREENMAIL_VERSION/greenmail-standalone-$GREENMAIL_VERSION.jar"
RUNTIME_ENV="$MAILROOM_DATA_DIR/runtime.env"
mkdir -p "$RUN_DIR" "$LOG_DIR"

say() { printf '%s %s\n' "[stack]" "$*" >&2; }
die() { printf '%s %s\n' "[stack] ERROR:" "$*" >&2; exit 1; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive NAME: true when the pid file of NAME names a live process
pid_alive() {
  local f="$RUN_DIR/$1.pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

# wait_until SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.2
  done
}

# start_bg NAME LOGFILE COMMAND...: start COMMAND detached, in its own session, pid in RUN_DIR
start_bg() {
  local name=$1 log=$2; shift 2
  setsid "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}

# stop_pid NAME [SECONDS]: TERM the process group, KILL after SECONDS
stop_pid() {
  local name=$1 grace=${2:-20} f="$RUN_DIR/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name did not stop in ${grace}s, killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

# Free-text log lines grep'd for readiness must be new: remember the size before start.
log_size() { [[ -f "$1" ]] && stat -c %s "$1" || echo 0; }
# (process substitution, not a pipe: grep -q exits early and pipefail would report the
# writer's SIGPIPE as a failure on a long log)
log_has_since() { grep -q "$3" < <(tail -c +"$(($2 + 1))" "$1" 2>/dev/null); }
