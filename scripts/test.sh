#!/usr/bin/env bash
# The whole test suite: static checks, unit tests, integration tests against real PostgreSQL, Redis
# and Kafka, then the convergence check's default profile (on a broker of its own). Starts what is
# missing and stops only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export TZ=UTC KAFKAJS_NO_PARTITIONER_WARNING=1

echo "== typecheck"; npx tsc -p tsconfig.json
echo "== lint"
# The module-boundary rule reads the Nx project graph; build it first so the rule really runs.
NX_DAEMON=false npx nx show projects >/dev/null
npx eslint apps libs tools
echo "== unit"; npx jest -c jest.unit.config.js

bash scripts/services.sh
started_kafka=0
if ! (REPO_ROOT="$PWD" && source scripts/kafka/common.sh && kafka_answers); then
  bash scripts/kafka/start.sh
  started_kafka=1
fi
trap '[ "$started_kafka" = 1 ] && bash scripts/kafka/stop.sh' EXIT
echo "== integration"; npx jest -c jest.integration.config.js --runInBand
echo "== verify"; bash scripts/verify.sh
