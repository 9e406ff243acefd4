# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Sourced by up.sh and down.sh so both agree on where a broker's files live.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_PORT="${KAFKA_PORT:-9092}"
# Not port+1: 9093 is Alertmanager's default, and the alerting tests run beside the broker.
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 10000))}"
KAFKA_LIBS="${KAFKA_LIBS:-$ROOT/.cache/kafka/libs}"
# One run dir per port, so a second broker (KAFKA_PORT=9192) never shares data with the first.
KAFKA_RUN_DIR="${KAFKA_RUN_DIR:-$ROOT/.cache/kafka/broker-$KAFKA_PORT}"
PID_FILE="$KAFKA_RUN_DIR/kafka.pid"
LOG_FILE="$KAFKA_RUN_DIR/kafka.log"

running_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE")"
  # A stale pid file can name a recycled pid: only trust it if it is still our java.
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q kafka.Kafka "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"
  else
    return 1
  fi
}

# Serialise up/down per broker: parallel test files may both try to start it.
mkdir -p "$(dirname "$KAFKA_RUN_DIR")"
exec 9>"$KAFKA_RUN_DIR.lock"
flock 9

stop_broker() {
  local pid="$1"
  kill -TERM "$pid"
  # A controlled shutdown flushes logs and the metadata snapshot; give it time before forcing.
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka (pid $pid) ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
}
