#!/usr/bin/env bash
# The whole test suite: unit tests, then integration tests against real PostgreSQL + pgvector and
# Redis, which scripts/services.sh starts if they are stopped. It installs and reconfigures nothing:
# on a new machine, `npm run setup` (or the quick start) installs what the suite needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh --check
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if ((${#missing[@]})); then
  echo "[test] the tests need ${missing[*]}: run \`npm run setup\` (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
eval "$(bash scripts/services.sh)"
exec node_modules/.bin/vitest run "$@"
