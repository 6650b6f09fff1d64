#!/usr/bin/env bash
# Runs a tool (a TypeScript file, then its arguments) with what it needs: PostgreSQL, Redis and the
# project's Kafka broker, stopped again if this script started it. Benchmarks and the verify run use
# it; their last line on stdout is their JSON result.
# With --compiled-services first, the services the tool starts run as the images run them: compiled
# to JavaScript once, here, instead of compiling their TypeScript as each process loads it.
set -euo pipefail
cd "$(dirname "$0")/.."
export TZ=UTC KAFKAJS_NO_PARTITIONER_WARNING=1
if [ "${1:-}" = --compiled-services ]; then
  shift
  node -r @swc-node/register tools/build/src/main.ts .tandem/build >&2
  export TANDEM_SERVICE_BUILD=.tandem/build
fi
bash scripts/services.sh >&2
started_kafka=0
if ! (REPO_ROOT="$PWD" && source scripts/kafka/common.sh && kafka_answers); then
  bash scripts/kafka/start.sh >&2
  started_kafka=1
fi
trap '[ "$started_kafka" = 1 ] && bash scripts/kafka/stop.sh >&2' EXIT
node -r @swc-node/register "$@"
