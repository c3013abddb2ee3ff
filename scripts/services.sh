#!/usr/bin/env bash
# Bring up the PostgreSQL (+pgvector) and Redis that MIRIX-TS needs, idempotently.
#
# Order of preference:
#   1. DATABASE_URL and REDIS_URL are set and both answer  -> use them, change nothing.
#   2. a Docker engine answers                               -> docker compose (docker-compose.dev.yml).
#   3. Debian, as root                                       -> apt-get PostgreSQL 15 + redis-server,
#                                                               build pgvector from Debian source, start both.
#
# Progress goes to stderr. The URLs it settled on go to stdout as `export` lines, so
#   eval "$(bash scripts/services.sh)"
# puts them into the calling shell.
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

PG_USER=mirix
PG_PASSWORD=mirix_dev_password
PG_DB=mirix_dev
PG_PORT=5432
DEFAULT_DATABASE_URL="postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DB}"
DEFAULT_REDIS_URL="redis://127.0.0.1:6379/0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

pg_answers() { # $1: url
  command -v psql >/dev/null 2>&1 || return 1
  PGCONNECT_TIMEOUT=3 psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

redis_answers() { # $1: url
  node -e '
    const u = new URL(process.argv[1]);
    const s = require("net").connect({ host: u.hostname || "127.0.0.1", port: Number(u.port || 6379) });
    const auth = u.password ? `AUTH ${u.username ? decodeURIComponent(u.username) + " " : ""}${decodeURIComponent(u.password)}\r\n` : "";
    s.setTimeout(3000, () => process.exit(1));
    s.on("error", () => process.exit(1));
    s.on("connect", () => s.write(auth + "PING\r\n"));
    let buf = "";
    s.on("data", (d) => { buf += d; if (buf.includes("+PONG")) process.exit(0); if (buf.includes("-")) process.exit(1); });
  ' "$1" >/dev/null 2>&1
}

emit() { # $1: database url, $2: redis url
  log "DATABASE_URL=$1"
  log "REDIS_URL=$2"
  printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "$1" "$2"
}

wait_for() { # $1: description, rest: command
  local what=$1; shift
  for _ in $(seq 1 60); do
    if "$@"; then return 0; fi
    sleep 1
  done
  die "$what did not come up within 60 s"
}

# 1. Already running services.
if [[ -n "${DATABASE_URL:-}" && -n "${REDIS_URL:-}" ]] && pg_answers "$DATABASE_URL" && redis_answers "$REDIS_URL"; then
  log "DATABASE_URL and REDIS_URL answer; nothing to do."
  emit "$DATABASE_URL" "$REDIS_URL"
  exit 0
fi
# A URL that is set, is not this script's default, and does not answer is the caller's service:
# say which one, and stop, rather than swap in development services behind the caller's back.
redact() { sed -E 's#(://[^:@/]*:)[^@/]*@#\1***@#' <<<"$1"; }
if [[ -n "${DATABASE_URL:-}" && "$DATABASE_URL" != "$DEFAULT_DATABASE_URL" ]] && ! pg_answers "$DATABASE_URL"; then
  command -v psql >/dev/null 2>&1 || die "DATABASE_URL is set ($(redact "$DATABASE_URL")), but psql is not installed to check it: install the PostgreSQL client, or unset DATABASE_URL to let this script run the development database."
  die "DATABASE_URL ($(redact "$DATABASE_URL")) does not answer: start that PostgreSQL or fix the URL, or unset DATABASE_URL to let this script run the development database."
fi
if [[ -n "${REDIS_URL:-}" && "$REDIS_URL" != "$DEFAULT_REDIS_URL" ]] && ! redis_answers "$REDIS_URL"; then
  die "REDIS_URL ($(redact "$REDIS_URL")) does not answer: start that Redis or fix the URL, or unset REDIS_URL to let this script run the development Redis."
fi
if [[ -z "${DATABASE_URL:-}" ]] && pg_answers "$DEFAULT_DATABASE_URL" && redis_answers "$DEFAULT_REDIS_URL"; then
  log "the default development services already answer; nothing to do."
  emit "$DEFAULT_DATABASE_URL" "$DEFAULT_REDIS_URL"
  exit 0
fi

# 2. Docker.
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "a Docker engine answers: starting postgres and redis with docker compose"
  docker compose -f "$ROOT/docker-compose.dev.yml" up -d --wait postgres redis >&2
  emit "$DEFAULT_DATABASE_URL" "$DEFAULT_REDIS_URL"
  exit 0
fi

# 3. Debian packages, as root.
[[ -r /etc/debian_version ]] || die "no DATABASE_URL/REDIS_URL that answer, no Docker engine, and this is not Debian: start PostgreSQL 15+ with pgvector and Redis 7, then set DATABASE_URL and REDIS_URL."
[[ $(id -u) -eq 0 ]] || die "installing PostgreSQL and Redis needs root (or set DATABASE_URL and REDIS_URL to running services)."
export DEBIAN_FRONTEND=noninteractive
PG_BIN=/usr/lib/postgresql/15/bin
PG_EXT_DIR=/usr/share/postgresql/15/extension

if [[ ! -x $PG_BIN/postgres || ! -x $PG_BIN/pg_config ]] || ! command -v redis-server >/dev/null 2>&1; then
  log "installing postgresql-15, postgresql-server-dev-15 and redis-server (apt)"
  apt-get update -qq >&2
  apt-get install -y -qq postgresql-15 postgresql-server-dev-15 redis-server build-essential >&2
fi

if [[ ! -f $PG_EXT_DIR/vector.control ]]; then
  log "building pgvector from Debian's source package (bookworm ships no binary)"
  src_list=/etc/apt/sources.list.d/mirix-trixie-src.sources
  if [[ ! -f $src_list ]]; then
    cat >"$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  apt-get update -qq >&2
  build_dir=$(mktemp -d)
  (
    cd "$build_dir"
    apt-get source -qq pgvector >&2
    cd pgvector-*/
    make -s PG_CONFIG=$PG_BIN/pg_config OPTFLAGS="" >&2
    make -s install PG_CONFIG=$PG_BIN/pg_config OPTFLAGS="" >&2
  )
  rm -rf "$build_dir"
  [[ -f $PG_EXT_DIR/vector.control ]] || die "pgvector did not install"
fi

if ! pg_lsclusters -h 2>/dev/null | awk '$1 == "15" && $2 == "main"' | grep -q .; then
  log "creating PostgreSQL cluster 15/main"
  pg_createcluster 15 main --port "$PG_PORT" >&2
fi
if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "main" {print $4}' | grep -q online; then
  log "starting PostgreSQL 15/main"
  pg_ctlcluster 15 main start >&2
fi
wait_for "PostgreSQL" runuser -u postgres -- psql -p "$PG_PORT" -Atqc 'select 1' >/dev/null

# Memory-search friendly settings: the HNSW and GIN indexes want to stay in shared buffers, and
# JIT compilation only adds latency to short OLTP queries. shared_buffers: a quarter of RAM, at
# most 2 GB (takes a restart, done once).
mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
shared_mb=$(( mem_kb / 4 / 1024 )); (( shared_mb > 2048 )) && shared_mb=2048; (( shared_mb < 128 )) && shared_mb=128
current=$(runuser -u postgres -- psql -p "$PG_PORT" -Atqc "select setting::bigint * 8 / 1024 from pg_settings where name = 'shared_buffers'")
if [[ "$current" != "$shared_mb" ]]; then
  log "tuning PostgreSQL (shared_buffers=${shared_mb}MB, jit=off) and restarting it"
  runuser -u postgres -- psql -p "$PG_PORT" -q -c "alter system set shared_buffers = '${shared_mb}MB'" \
    -c "alter system set jit = off" -c "alter system set random_page_cost = 1.1" \
    -c "alter system set work_mem = '16MB'" -c "alter system set maintenance_work_mem = '512MB'" >&2
  pg_ctlcluster 15 main restart >&2
  wait_for "PostgreSQL" runuser -u postgres -- psql -p "$PG_PORT" -Atqc 'select 1' >/dev/null
fi

# A superuser role for development and tests: tests create one database per file and
# the first migration creates the vector extension.
runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -q >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PG_USER}') THEN
    CREATE ROLE ${PG_USER} LOGIN SUPERUSER PASSWORD '${PG_PASSWORD}';
  ELSE
    ALTER ROLE ${PG_USER} LOGIN SUPERUSER PASSWORD '${PG_PASSWORD}';
  END IF;
END \$\$;
SQL
if ! runuser -u postgres -- psql -p "$PG_PORT" -Atqc "select 1 from pg_database where datname = '${PG_DB}'" | grep -q 1; then
  runuser -u postgres -- createdb -p "$PG_PORT" -O "$PG_USER" "$PG_DB"
fi

if ! redis_answers "$DEFAULT_REDIS_URL"; then
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --port 6379 --bind 127.0.0.1 --save "" --appendonly no >&2
fi
wait_for "Redis" redis_answers "$DEFAULT_REDIS_URL"
wait_for "PostgreSQL over TCP" pg_answers "$DEFAULT_DATABASE_URL"

emit "$DEFAULT_DATABASE_URL" "$DEFAULT_REDIS_URL"
