#!/usr/bin/env bash
# Runs a command with DATABASE_URL/REDIS_URL from scripts/services.sh (starting the services if needed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
eval "$(bash scripts/services.sh)"
exec "$@"
