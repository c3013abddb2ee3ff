#!/usr/bin/env bash
# One command from a fresh clone to a running server on :8000:
# dependencies, PostgreSQL + pgvector + Redis, .env, migrations, development seeds, the web app's
# bundle, then the API (which serves the web app at /) and the worker.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
eval "$(bash scripts/services.sh)"

if [[ ! -f .env ]]; then
  echo "[quickstart] writing .env (from .env.example, with the service URLs, a fresh JWT_SECRET and vault key)" >&2
  jwt_secret=$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("base64url"))')
  vault_key=$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("base64"))')
  sed -e "s#^DATABASE_URL=.*#DATABASE_URL=${DATABASE_URL}#" \
      -e "s#^REDIS_URL=.*#REDIS_URL=${REDIS_URL}#" \
      -e "s#^JWT_SECRET=.*#JWT_SECRET=${jwt_secret}#" \
      -e "s#^VAULT_KEYS=.*#VAULT_KEYS=k1:${vault_key}#" \
      .env.example > .env
fi

npm run --silent db:create
npm run --silent db:migrate
npm run --silent db:seed
echo "[quickstart] building the web app (web/dist)" >&2
npm run --silent build:web -- --logLevel warn
echo "[quickstart] starting the worker and the API on http://localhost:${PORT:-8000} (Ctrl-C stops both)" >&2
npm run --silent worker &
worker_pid=$!
trap 'kill -TERM "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null' EXIT
npm run --silent start
