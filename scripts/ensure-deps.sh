#!/usr/bin/env bash
# Installs node_modules from package-lock.json when they are missing or older than the lockfile.
# With --check it installs nothing and says what to run instead (npm test and the benchmarks).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  if [[ "${1:-}" == --check ]]; then
    echo "[deps] node_modules is missing or older than package-lock.json: run \`npm ci\` (or \`npm run setup\`)" >&2
    exit 1
  fi
  echo "[deps] npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
