#!/usr/bin/env bash
# Stop the local Kafka broker started by start.sh. Exits 0 if none is running.
# --wipe also deletes its data (topics, offsets, cluster id); the downloaded jars are kept.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
source "$SCRIPT_DIR/common.sh"

wipe=false
for arg in "$@"; do
  case "$arg" in
    --wipe) wipe=true ;;
    *) echo "usage: $0 [--wipe]" >&2; exit 2 ;;
  esac
done

if pid="$(running_pid)"; then
  # SIGTERM lets the broker flush logs and write a clean-shutdown marker, so the next start
  # skips log recovery.
  echo "kafka: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka: still running after 30s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  echo "kafka: stopped"
elif kafka_answers; then
  echo "kafka: something answers on 127.0.0.1:$KAFKA_PORT but was not started by start.sh; leaving it alone" >&2
else
  echo "kafka: not running"
fi
rm -f "$PID_FILE"

if $wipe; then
  echo "kafka: wiping $KAFKA_HOME/data"
  rm -rf "$KAFKA_HOME/data"
fi
