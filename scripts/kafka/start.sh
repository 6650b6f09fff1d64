#!/usr/bin/env bash
# Start a local single-node Apache Kafka (KRaft: broker + controller in one JVM) for development
# and tests. Needs only Java 17+ and Maven: the broker jars come from Maven Central via pom.xml.
# Idempotent: exits 0 at once if a broker already answers on the port.
#
# Env: KAFKA_PORT (default 9092; the controller uses KAFKA_PORT+1),
#      TANDEM_KAFKA_HOME (default <repo>/.tandem/kafka), KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS,
#      KAFKA_START_TIMEOUT (s).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
source "$SCRIPT_DIR/common.sh"

CONTROLLER_PORT=$((KAFKA_PORT + 1))
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms768m -Xmx768m}"
# This broker shares two cores with Tandem's services and databases. There C2's compiles and G1's
# concurrent marking cost the broker more CPU than its own work, and its C1 code serves requests as
# fast: so the C1 compiler only, and the parallel collector over a heap that never resizes.
PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseParallelGC}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
LIB="$KAFKA_HOME/lib"
DATA="$KAFKA_HOME/data"
CONF="$KAFKA_HOME/server.properties"

if kafka_answers; then
  echo "kafka: already running on 127.0.0.1:$KAFKA_PORT ($(pid_info))"
  exit 0
fi
if pid=$(running_pid); then
  if ! grep -q "^listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT," "$CONF" 2>/dev/null; then
    echo "kafka: pid $pid runs with another port ($CONF); stop it first" >&2; exit 1
  fi
  # Started but not serving yet (e.g. a parallel start): wait for it instead of starting another.
  echo "kafka: pid $pid is starting, waiting for it"
else
  rm -f "$PID_FILE"
  mkdir -p "$KAFKA_HOME" "$DATA"
  : >"$LOG_FILE" # fresh log per start, so a failure's tail is about this run

  # 1. Jars. Re-copied only when pom.xml changes; Maven's local repository caches the downloads.
  stamp="$(cksum <"$SCRIPT_DIR/pom.xml")"
  if [[ ! -f "$LIB/.pom-stamp" || "$(cat "$LIB/.pom-stamp")" != "$stamp" ]]; then
    echo "kafka: fetching broker jars with Maven (~45 MB; downloaded once, then cached)"
    command -v mvn >/dev/null || { echo "kafka: 'mvn' not found on PATH" >&2; exit 1; }
    rm -rf "$LIB"
    mvn -B -q -f "$SCRIPT_DIR/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIB" >"$KAFKA_HOME/mvn.log" 2>&1 \
      || { echo "kafka: Maven failed; last lines of $KAFKA_HOME/mvn.log:" >&2; tail -n 30 "$KAFKA_HOME/mvn.log" >&2; exit 1; }
    echo "$stamp" >"$LIB/.pom-stamp"
  fi

  # 2. Config, rewritten each start so port/path changes apply. A static voter set (rather than a
  #    dynamic quorum) keeps the controller address out of the metadata log, so ports can change.
  cat >"$CONF" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA
# One broker: every replication factor and min ISR must be 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions: the first consumer group / transaction comes up much faster.
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
# Apps create their topics through the admin client; a typo must not silently create one.
auto.create.topics.enable=false
num.partitions=1
# Tests join groups constantly; do not wait for more members.
group.initial.rebalance.delay.ms=0
# Small machine: few threads.
num.network.threads=2
num.io.threads=4
background.threads=4
EOF

  # 3. Format the storage once (the KRaft equivalent of 'kafka-storage format').
  if [[ ! -f "$DATA/meta.properties" ]]; then
    # A cluster id is 16 random bytes in URL-safe base64 (what 'kafka-storage random-uuid' prints),
    # drawn again when it starts with '-', which the storage tool would read as an option.
    cluster_id=-
    while [ "${cluster_id#-}" != "$cluster_id" ]; do
      cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    done
    echo "kafka: formatting $DATA (cluster id $cluster_id)"
    java -cp "$LIB/*" kafka.tools.StorageTool format --config "$CONF" --cluster-id "$cluster_id" \
      >>"$LOG_FILE" 2>&1 || { echo "kafka: storage format failed, see $LOG_FILE" >&2; tail -n 20 "$LOG_FILE" >&2; exit 1; }
  fi

  # 4. Launch in the background, detached from this shell.
  echo "kafka: starting broker on 127.0.0.1:$KAFKA_PORT (log: $LOG_FILE)"
  # shellcheck disable=SC2086 # HEAP_OPTS and PERFORMANCE_OPTS are lists of JVM flags
  nohup java $HEAP_OPTS $PERFORMANCE_OPTS -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" \
    -cp "$LIB/*" kafka.Kafka "$CONF" >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
fi

# 5. Wait until it serves Kafka requests, not merely until the port is bound.
deadline=$((SECONDS + START_TIMEOUT))
until kafka_answers; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "kafka: broker exited during startup; last log lines:" >&2
    tail -n 40 "$LOG_FILE" >&2; rm -f "$PID_FILE"; exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "kafka: not answering on 127.0.0.1:$KAFKA_PORT after ${START_TIMEOUT}s (pid $pid still running; 'npm run kafka:stop' ends it); last log lines:" >&2
    tail -n 40 "$LOG_FILE" >&2; exit 1
  fi
  sleep 1
done
echo "kafka: ready on 127.0.0.1:$KAFKA_PORT (pid $pid, ${SECONDS}s)"
