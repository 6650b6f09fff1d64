#!/usr/bin/env bash
# `npm run verify`: the convergence check on a broker of its own. Restarting the broker is one of its
# faults, so it must not share one with anything else; it starts a fresh one (its own port and data
# directory) and wipes it at the end. Arguments go to tools/verify.
set -euo pipefail
cd "$(dirname "$0")/.."
export KAFKA_PORT="${VERIFY_KAFKA_PORT:-9292}" TANDEM_KAFKA_HOME="$PWD/.tandem/kafka-verify"
export TEST_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
bash scripts/kafka/stop.sh --wipe >&2
trap 'bash scripts/kafka/stop.sh --wipe >&2' EXIT
bash scripts/run-tool.sh tools/verify/src/verify.ts "$@"
