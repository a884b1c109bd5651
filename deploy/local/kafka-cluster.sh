#!/usr/bin/env bash
# The 3-broker Kafka mode on one host, for failover tests: `kafka-cluster.sh up|down|status`.
# Each node is broker+controller with its own node.id, ports (KAFKA_CLUSTER_PORTS; the
# controller listens on port + 1) and log dir; replication factor 3, min.insync.replicas 2.
. "$(dirname "$0")/lib.sh"
. "$MAILROOM_ROOT/deploy/local/services/kafka.sh"

read -r -a ports <<<"$KAFKA_CLUSTER_PORTS"
((${#ports[@]} == 3)) || die "KAFKA_CLUSTER_PORTS must list three ports"
base="$MAILROOM_DATA_DIR/kafka-cluster"
voters=$(for i in 0 1 2; do printf '%s@127.0.0.1:%s,' "$((i + 1))" "$((ports[i] + 1))"; done | sed 's/,$//')

case "${1:-status}" in
  up)
    "$MAILROOM_ROOT/deploy/local/fetch.sh"
    mkdir -p "$base"
    cid=$(kafka_cluster_id "$base")
    for i in 0 1 2; do
      kafka_write_config "$base/node-$((i + 1))" "$((i + 1))" "${ports[i]}" "$voters" \
        offsets.topic.replication.factor=3 transaction.state.log.replication.factor=3 \
        transaction.state.log.min.isr=2 min.insync.replicas=2 default.replication.factor=3 \
        broker.session.timeout.ms=3000 broker.heartbeat.interval.ms=500
      kafka_start_node "kafka-cluster-$((i + 1))" "$base/node-$((i + 1))" "$cid" "${ports[i]}"
    done
    for i in 0 1 2; do kafka_wait_node "kafka-cluster-$((i + 1))" "${ports[i]}"; done
    say "kafka cluster up: $(for p in "${ports[@]}"; do printf '127.0.0.1:%s ' "$p"; done)"
    ;;
  down)
    for i in 1 2 3; do stop_pid "kafka-cluster-$i" 10 & done; wait
    ;;
  status)
    rc=0
    for i in 0 1 2; do
      if pid_alive "kafka-cluster-$((i + 1))" && port_open "${ports[i]}"; then s=up; else s=DOWN; rc=1; fi
      printf '  kafka-%s  %-5s 127.0.0.1:%s\n' "$((i + 1))" "$s" "${ports[i]}"
    done
    exit $rc
    ;;
  *) die "usage: kafka-cluster.sh up|down|status" ;;
esac
