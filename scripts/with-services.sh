#!/usr/bin/env bash
# Runs a command with DATABASE_URL/REDIS_URL from scripts/services.sh (starting them if they are stopped; installing nothing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh --check
eval "$(bash scripts/services.sh)"
exec "$@"
