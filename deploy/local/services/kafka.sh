# Kafka in KRaft mode from the Maven Central jars. One node by default; kafka_cluster_*
# in kafka-cluster.sh reuses kafka_start_node for the 3-broker mode.

# kafka_write_config DIR NODE_ID PORT VOTERS EXTRA...
kafka_write_config() {
  local dir=$1 id=$2 port=$3 voters=$4; shift 4
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=6
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
  printf '%s\n' "$@" >>"$dir/server.properties"
  cat >"$dir/log4j.properties" <<'L4J'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.controller=INFO
L4J
}

# kafka_cluster_id DIR: a stable 22-character id per data directory
kafka_cluster_id() {
  local f="$1/cluster.id"
  [[ -f "$f" ]] || java -cp "$KAFKA_LIB/*" kafka.tools.StorageTool random-uuid 2>/dev/null >"$f"
  cat "$f"
}

# kafka_start_node NAME DIR CLUSTER_ID PORT: format (once) and start; waits for RUNNING
kafka_start_node() {
  local name=$1 dir=$2 cid=$3 port=$4 log="$LOG_DIR/$1.log"
  if pid_alive "$name" && port_open "$port"; then say "$name already running on :$port"; return 0; fi
  # A node still shutting down (stopped a moment ago) holds its ports: let it finish.
  if pid_alive "$name"; then
    say "$name is still stopping; waiting"
    wait_until 60 "$name exit" eval '! pid_alive "$name"' || die "$name does not exit (pid $(cat "$RUN_DIR/$name.pid"))"
  fi
  ports_free() { ! port_open "$port" && ! port_open "$((port + 1))"; }
  wait_until 15 "ports $port/$((port + 1))" ports_free ||
    die "port $port or $((port + 1)) is taken by another process (set KAFKA_PORT)"
  java -cp "$KAFKA_LIB/*" kafka.tools.StorageTool format -t "$cid" -c "$dir/server.properties" \
    --ignore-formatted >>"$log" 2>&1 || { tail -20 "$log" >&2; die "kafka storage format failed"; }
  local from; from=$(log_size "$log")
  # shellcheck disable=SC2086
  start_bg "$name" "$log" java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties" \
    -Dkafka.logs.dir="$dir/logs" -cp "$KAFKA_LIB/*" kafka.Kafka "$dir/server.properties"
  echo "$from" >"$RUN_DIR/$name.logstart"
}

kafka_wait_node() { # NAME PORT
  local name=$1 port=$2 log="$LOG_DIR/$1.log" from
  from=$(cat "$RUN_DIR/$name.logstart" 2>/dev/null || echo 0)
  kafka_ready() { pid_alive "$name" && port_open "$port" && log_has_since "$log" "$from" 'Transitioning from RECOVERY to RUNNING\|Kafka Server started'; }
  wait_until 90 "$name" kafka_ready || { tail -30 "$log" >&2; die "$name did not become ready (log: $log)"; }
}

kafka_up() {
  local dir="$MAILROOM_DATA_DIR/kafka"
  mkdir -p "$dir"
  kafka_write_config "$dir" 1 "$KAFKA_PORT" "1@127.0.0.1:$((KAFKA_PORT + 1))" \
    offsets.topic.replication.factor=1 transaction.state.log.replication.factor=1 \
    transaction.state.log.min.isr=1 min.insync.replicas=1
  kafka_start_node kafka "$dir" "$(kafka_cluster_id "$dir")" "$KAFKA_PORT"
}
kafka_wait() { kafka_wait_node kafka "$KAFKA_PORT"; }
kafka_down() { stop_pid kafka 30; }
kafka_status() { pid_alive kafka && port_open "$KAFKA_PORT"; }
