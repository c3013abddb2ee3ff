#!/usr/bin/env bash
# Starts the PostgreSQL (+pgvector) and Redis that MIRIX-TS needs, idempotently; installs and
# configures nothing (that is scripts/setup.sh, `npm run setup`).
#
# Order of preference:
#   1. DATABASE_URL and REDIS_URL are set and both answer  -> use them.
#   2. the development services already answer             -> use them.
#   3. a Docker engine answers                             -> docker compose (docker-compose.dev.yml).
#   4. the services scripts/setup.sh installed             -> start them if they are stopped.
#
# Progress goes to stderr. The URLs it settled on go to stdout as `export` lines, so
#   eval "$(bash scripts/services.sh)"
# puts them into the calling shell.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/dev-services.sh"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }
emit() { # $1: database url, $2: redis url
  log "DATABASE_URL=$1"
  log "REDIS_URL=$2"
  printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "$1" "$2"
}
redact() { sed -E 's#(://[^:@/]*:)[^@/]*@#\1***@#' <<<"$1"; }

# 1. The caller's services.
if [[ -n "${DATABASE_URL:-}" && -n "${REDIS_URL:-}" ]] && pg_answers "$DATABASE_URL" && redis_answers "$REDIS_URL"; then
  log "DATABASE_URL and REDIS_URL answer; nothing to do."
  emit "$DATABASE_URL" "$REDIS_URL"
  exit 0
fi
# A URL that is set, is not the development default, and does not answer is the caller's service:
# say which one, and stop, rather than swap in development services behind the caller's back.
if [[ -n "${DATABASE_URL:-}" && "$DATABASE_URL" != "$DEFAULT_DATABASE_URL" ]] && ! pg_answers "$DATABASE_URL"; then
  command -v psql >/dev/null 2>&1 || die "DATABASE_URL is set ($(redact "$DATABASE_URL")), but psql is not installed to check it: install the PostgreSQL client, or unset DATABASE_URL to use the development database."
  die "DATABASE_URL ($(redact "$DATABASE_URL")) does not answer: start that PostgreSQL or fix the URL, or unset DATABASE_URL to use the development database."
fi
if [[ -n "${REDIS_URL:-}" && "$REDIS_URL" != "$DEFAULT_REDIS_URL" ]] && ! redis_answers "$REDIS_URL"; then
  die "REDIS_URL ($(redact "$REDIS_URL")) does not answer: start that Redis or fix the URL, or unset REDIS_URL to use the development Redis."
fi

# 2. The development services, running.
if pg_answers "$DEFAULT_DATABASE_URL" && redis_answers "$DEFAULT_REDIS_URL"; then
  log "the development services answer; nothing to do."
  emit "$DEFAULT_DATABASE_URL" "$DEFAULT_REDIS_URL"
  exit 0
fi

# 3. Docker.
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "a Docker engine answers: starting postgres and redis with docker compose"
  docker compose -f "$ROOT/docker-compose.dev.yml" up -d --wait postgres redis >&2
  emit "$DEFAULT_DATABASE_URL" "$DEFAULT_REDIS_URL"
  exit 0
fi

# 4. What scripts/setup.sh installed, stopped.
pg_owned || die "no PostgreSQL to use: run \`npm run setup\` (installs PostgreSQL 15 + pgvector and Redis on Debian as root), or set DATABASE_URL and REDIS_URL to running services."
command -v redis-server >/dev/null 2>&1 || die "no redis-server: run \`npm run setup\`, or set REDIS_URL to a running Redis."
if ! pg_online; then
  log "starting PostgreSQL 15/main (installed by scripts/setup.sh)"
  pg_ctlcluster 15 main start >&2
fi
if ! redis_answers "$DEFAULT_REDIS_URL"; then
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --port 6379 --bind 127.0.0.1 --save "" --appendonly no >&2
fi
wait_for "Redis" redis_answers "$DEFAULT_REDIS_URL"
wait_for "PostgreSQL" pg_answers "$DEFAULT_DATABASE_URL"
emit "$DEFAULT_DATABASE_URL" "$DEFAULT_REDIS_URL"
