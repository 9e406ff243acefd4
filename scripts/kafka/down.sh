#!/usr/bin/env bash
# Stops the broker started by up.sh. Data is kept so up.sh restarts the same broker with
# every record (the restart tests rely on that); --clean or KAFKA_CLEAN=1 also wipes it.
set -euo pipefail
# shellcheck source=scripts/kafka/common.sh
source "$(dirname "$0")/common.sh"
clean="${KAFKA_CLEAN:-0}"
[[ "${1:-}" == "--clean" ]] && clean=1

if pid="$(running_pid)"; then
  stop_broker "$pid"
  echo "kafka on 127.0.0.1:$KAFKA_PORT stopped"
else
  echo "kafka on 127.0.0.1:$KAFKA_PORT is not running"
fi
rm -f "$PID_FILE"
if [[ "$clean" == 1 ]]; then
  rm -rf "$KAFKA_RUN_DIR"
  echo "wiped $KAFKA_RUN_DIR"
fi
