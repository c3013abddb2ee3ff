#!/usr/bin/env bash
# One command from a fresh clone to a running server on :8000:
# dependencies, PostgreSQL + pgvector + Redis, .env, migrations, development seeds, then the API.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh
eval "$(bash scripts/services.sh)"

if [[ ! -f .env ]]; then
  echo "[quickstart] writing .env (from .env.example, with the service URLs and a fresh JWT_SECRET)" >&2
  jwt_secret=$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("base64url"))')
  sed -e "s#^DATABASE_URL=.*#DATABASE_URL=${DATABASE_URL}#" \
      -e "s#^REDIS_URL=.*#REDIS_URL=${REDIS_URL}#" \
      -e "s#^JWT_SECRET=.*#JWT_SECRET=${jwt_secret}#" \
      .env.example > .env
fi

npm run --silent db:migrate
npm run --silent db:seed
echo "[quickstart] starting the API on http://localhost:${PORT:-8000} (Ctrl-C stops it)" >&2
exec npm run --silent start
