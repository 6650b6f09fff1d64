# Shared by start.sh and stop.sh (sourced; expects REPO_ROOT to be set).
KAFKA_HOME="${TANDEM_KAFKA_HOME:-$REPO_ROOT/.tandem/kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
PID_FILE="$KAFKA_HOME/kafka.pid"
LOG_FILE="$KAFKA_HOME/kafka.log"

# True if the port answers a Kafka ApiVersions request: proves that a Kafka broker (not just any
# process) is serving requests there.
kafka_answers() {
  local reply
  reply="$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    # size=10, api_key=18 (ApiVersions), version=0, correlation_id=7, client_id=null
    printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x07\xff\xff" >&3
    head -c 8 <&3 | od -An -tx1' "$KAFKA_PORT" 2>/dev/null)" || return 1
  [[ "$(echo $reply)" == *"00 00 00 07" ]] # reply echoes our correlation id
}

# Prints the pid from the pid file if that process is alive and really our broker.
running_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && ps -p "$pid" -o args= | grep -q kafka.Kafka \
    && echo "$pid"
}

pid_info() {
  local pid
  if pid="$(running_pid)"; then echo "pid $pid"; else echo "not started by this script"; fi
}
