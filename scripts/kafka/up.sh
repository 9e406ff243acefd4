#!/usr/bin/env bash
# Starts a single-node KRaft Kafka from Maven Central jars (no Docker, no tarball download)
# and returns once it answers Kafka requests on 127.0.0.1:$KAFKA_PORT.
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (port+10000), KAFKA_RUN_DIR, KAFKA_LIBS,
#      KAFKA_START_TIMEOUT (90 s), KAFKA_CLEAN=1 or --clean to start from empty storage.
set -euo pipefail
# shellcheck source=scripts/kafka/common.sh
source "$(dirname "$0")/common.sh"
timeout_s="${KAFKA_START_TIMEOUT:-90}"

if pid="$(running_pid)"; then
  echo "kafka already running on 127.0.0.1:$KAFKA_PORT (pid $pid)"
  exit 0
fi
# An open port is not enough (the listener binds before the broker is unfenced): "up"
# means an actual ApiVersions (key 18, v0) response.
answers() {
  local reply
  reply="$( (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT" || exit 1
    printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00' >&3
    timeout 2 head -c 4 <&3 | od -An -tx1) 2>/dev/null || true)"
  [[ -n "${reply// /}" ]]
}
if answers; then
  echo "something not started by this script already serves 127.0.0.1:$KAFKA_PORT;" \
    "point tests at it with KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT or pick another KAFKA_PORT" >&2
  exit 1
fi
if [[ "${1:-}" == "--clean" || "${KAFKA_CLEAN:-0}" == 1 ]]; then
  rm -rf "$KAFKA_RUN_DIR"
fi

# The jar cache is keyed on the pom, so a Kafka version bump refetches; Maven writes to a
# temp dir first so an interrupted fetch never leaves a half-filled libs dir that looks done.
pom="$ROOT/scripts/kafka/pom.xml"
pom_sum="$(sha256sum "$pom" | cut -c1-64)"
if [[ "$(cat "$KAFKA_LIBS/.pom.sha256" 2>/dev/null)" != "$pom_sum" ]]; then
  echo "fetching Kafka jars with Maven into $KAFKA_LIBS (once per pom change)"
  rm -rf "$KAFKA_LIBS.tmp"
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  mvn -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIBS.tmp" >"$KAFKA_LIBS.mvn.log" 2>&1 \
    || { tail -n 30 "$KAFKA_LIBS.mvn.log" >&2; echo "maven could not fetch the Kafka jars" >&2; exit 1; }
  echo "$pom_sum" >"$KAFKA_LIBS.tmp/.pom.sha256"
  rm -rf "$KAFKA_LIBS" && mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
fi

mkdir -p "$KAFKA_RUN_DIR/data"
cat >"$KAFKA_RUN_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_RUN_DIR/data
num.partitions=1
auto.create.topics.enable=true
# One node: internal topics must not ask for 3 replicas, or __consumer_offsets is never
# created and kafkajs loops on "group coordinator is not available" (kafkajs#1752).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS

cat >"$KAFKA_RUN_DIR/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=$LOG_FILE
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=file
# Start-up at INFO is ~2000 lines; keep only the lifecycle lines that explain a slow start.
logger.raft.name=kafka.server.KafkaRaftServer
logger.raft.level=INFO
logger.broker.name=kafka.server.BrokerServer
logger.broker.level=INFO
PROPS

jvm=(java -Xms256m -Xmx512m -Dlog4j2.configurationFile="$KAFKA_RUN_DIR/log4j2.properties"
  -cp "$KAFKA_LIBS/*")

# Formatted storage is reused so a restart keeps every record and committed offset.
if [[ ! -f "$KAFKA_RUN_DIR/data/meta.properties" ]]; then
  # Kafka cluster ids are 16 random bytes in unpadded base64url; a leading '-' would be
  # parsed as a CLI flag, which is why Kafka's own generator avoids it too.
  cluster_id="-"
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)"
  done
  "${jvm[@]}" kafka.tools.StorageTool format --config "$KAFKA_RUN_DIR/server.properties" \
    --cluster-id "$cluster_id" >"$KAFKA_RUN_DIR/format.log" 2>&1 \
    || { cat "$KAFKA_RUN_DIR/format.log" >&2; exit 1; }
fi

start=$SECONDS
: >"$LOG_FILE"
# 9>&-: the broker must not inherit the lock fd, or it would hold the lock for life.
nohup "${jvm[@]}" kafka.Kafka "$KAFKA_RUN_DIR/server.properties" \
  >>"$KAFKA_RUN_DIR/stdout.log" 2>&1 </dev/null 9>&- &
pid=$!
echo "$pid" >"$PID_FILE"

until answers; do
  # kill -0, not running_pid: the child may not have exec'd java yet.
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "kafka exited during start-up; last log lines:" >&2
    tail -n 40 "$LOG_FILE" "$KAFKA_RUN_DIR/stdout.log" >&2 || true
    rm -f "$PID_FILE"
    exit 1
  fi
  if (( SECONDS - start > timeout_s )); then
    echo "kafka did not answer on 127.0.0.1:$KAFKA_PORT within ${timeout_s}s; last log lines:" >&2
    tail -n 40 "$LOG_FILE" >&2 || true
    stop_broker "$pid"
    exit 1
  fi
  sleep 0.5
done
echo "kafka up on 127.0.0.1:$KAFKA_PORT (pid $pid, $((SECONDS - start)) s, dir $KAFKA_RUN_DIR)"
