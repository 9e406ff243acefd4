#!/usr/bin/env bash
# Stops the broker started by up.sh. Data is kept so up.sh restarts the same broker with
# every record (the restart tests rely on that); --clean or KAFKA_CLEAN=1 also wipes it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
clean="${KAFKA_CLEAN:-0}"
[[ "${1:-}" == "--clean" ]] && clean=1

if pid="$(running_pid)"; then
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
  echo "kafka on 127.0.0.1:$KAFKA_PORT stopped"
else
  echo "kafka on 127.0.0.1:$KAFKA_PORT is not running"
fi
rm -f "$PID_FILE"
if [[ "$clean" == 1 ]]; then
  rm -rf "$KAFKA_RUN_DIR"
  echo "wiped $KAFKA_RUN_DIR"
fi
