#!/usr/bin/env bash
# The whole test suite: unit tests, then integration tests against real PostgreSQL + pgvector and
# Redis (started by scripts/services.sh unless DATABASE_URL/REDIS_URL already answer).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh
bash scripts/test-tools.sh
eval "$(bash scripts/services.sh)"
exec node_modules/.bin/vitest run "$@"
