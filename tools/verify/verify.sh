#!/usr/bin/env bash
# Runs the randomized fault-injection check with what it needs: PostgreSQL, Redis and the project's
# Kafka broker (started if it is not running; the run restarts it as one of its faults, so it must
# be the broker scripts/kafka/start.sh runs). Arguments go to the tool: --seed S --profile default|long.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TZ=UTC KAFKAJS_NO_PARTITIONER_WARNING=1
bash scripts/services.sh >&2
started_kafka=0
if ! (REPO_ROOT="$PWD" && source scripts/kafka/common.sh && kafka_answers); then
  bash scripts/kafka/start.sh >&2
  started_kafka=1
fi
trap '[ "$started_kafka" = 1 ] && bash scripts/kafka/stop.sh >&2' EXIT
node -r @swc-node/register tools/verify/src/verify.ts "$@"
