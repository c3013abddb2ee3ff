#!/usr/bin/env bash
# `npm run setup`: the one script that sets up a machine for MIRIX-TS, idempotently. The quick start
# and CI call it; `npm test` and the benchmarks never do (they only start what this installed).
#
#   1. node_modules from package-lock.json, when missing or older than the lockfile;
#   2. PostgreSQL 15 + pgvector and Redis, unless DATABASE_URL and REDIS_URL already answer or a
#      Docker engine runs them: on Debian as root, from Debian's packages (pgvector built from
#      Debian's source package), tuned for memory search, with a development role and database;
#   3. the programs the test suite runs besides Node: docker-compose (validates the Compose file)
#      and Chromium (the web app's end-to-end tests).
#
# It owns the cluster it installs, or the stopped one that came with the machine, and marks it with a
# file in its conf.d (mirix-dev.conf) that holds its settings. A running PostgreSQL it does not own
# gets a role and database but is never reconfigured or restarted; scripts/services.sh (npm test)
# starts only an owned cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/dev-services.sh

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

bash scripts/ensure-deps.sh

debian_root() { [[ -r /etc/debian_version && $(id -u) -eq 0 ]]; }
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "$@" >&2
}

# ---- PostgreSQL + pgvector and Redis --------------------------------------------------------
if [[ -n "${DATABASE_URL:-}" && -n "${REDIS_URL:-}" ]] && pg_answers "$DATABASE_URL" && redis_answers "$REDIS_URL"; then
  log "DATABASE_URL and REDIS_URL answer: using them, installing no services."
elif pg_answers "$DEFAULT_DATABASE_URL" && redis_answers "$DEFAULT_REDIS_URL" && ! pg_owned; then
  log "the development services answer (not installed by this script): using them as they are."
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "a Docker engine answers: scripts/services.sh runs the services with docker compose."
else
  debian_root || die "no DATABASE_URL/REDIS_URL that answer, no Docker engine, and not Debian as root: start PostgreSQL 15+ with pgvector and Redis 7, then set DATABASE_URL and REDIS_URL."
  # The cluster becomes this script's: its settings go in one conf.d file (Debian's
  # postgresql.conf includes conf.d), which undoes them when deleted.
  own_cluster() {
    pg_lsclusters -h | awk '$1 == "15" && $2 == "main"' | grep -q . || pg_createcluster 15 main --port "$PG_PORT" >&2
    mkdir -p "$(dirname "$PG_OWNED_CONF")"
    printf '# Written by MIRIX-TS scripts/setup.sh, which set up this cluster.\n' >"$PG_OWNED_CONF"
  }
  if [[ ! -x $PG_BIN/postgres ]]; then
    log "installing postgresql-15, postgresql-server-dev-15 and redis-server (apt)"
    apt_install postgresql-15 postgresql-server-dev-15 redis-server build-essential
    own_cluster
  elif ! pg_owned; then
    if pg_online; then
      # Someone runs this cluster: it gets the role, database and extension, but no new settings
      # and no restart.
      log "PostgreSQL 15/main runs and this script did not set it up: using it without tuning or a restart (docs/deployment.md lists the settings memory search wants)"
    else
      # A stopped cluster that came with the machine (Debian images ship one): set-up was asked for.
      log "setting up the stopped PostgreSQL 15/main that came with this machine: its MIRIX settings go in $PG_OWNED_CONF (delete it to undo them)"
      own_cluster
    fi
  fi
  command -v redis-server >/dev/null 2>&1 || { log "installing redis-server (apt)"; apt_install redis-server; }
  command -v make >/dev/null 2>&1 && [[ -f /usr/include/postgresql/15/server/postgres.h ]] || {
    log "installing postgresql-server-dev-15 and build-essential (apt), to build pgvector"
    apt_install postgresql-server-dev-15 build-essential
  }

  if [[ ! -f $PG_EXT_DIR/vector.control ]]; then
    log "building pgvector from Debian's source package (bookworm ships no binary)"
    src_list=/etc/apt/sources.list.d/mirix-trixie-src.sources
    [[ -f $src_list ]] || cat >"$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
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

  # Memory-search settings (docs/deployment.md): the HNSW and GIN indexes want to stay in shared
  # buffers, and JIT compilation only adds latency to short queries. A restart when they change.
  mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
  shared_mb=$((mem_kb / 4 / 1024)); ((shared_mb > 2048)) && shared_mb=2048; ((shared_mb < 128)) && shared_mb=128
  tuning=$(printf '%s\n' "# Written by MIRIX-TS scripts/setup.sh, which set up this cluster." \
    "shared_buffers = '${shared_mb}MB'" "jit = off" "random_page_cost = 1.1" "work_mem = '16MB'" \
    "maintenance_work_mem = '512MB'")
  if pg_owned; then
    changed=0
    if [[ "$(cat "$PG_OWNED_CONF")" != "$tuning" ]]; then
      printf '%s\n' "$tuning" >"$PG_OWNED_CONF"
      changed=1
    fi
    if ! pg_online; then
      log "starting PostgreSQL 15/main"
      pg_ctlcluster 15 main start >&2
    elif ((changed)); then
      log "tuning PostgreSQL (shared_buffers=${shared_mb}MB, jit=off): restarting it"
      pg_ctlcluster 15 main restart >&2
    fi
  fi
  wait_for "PostgreSQL" runuser -u postgres -- psql -p "$PG_PORT" -Atqc 'select 1'

  # A superuser role for development and tests: tests create one database per file, and the first
  # migration creates the vector extension.
  runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -q >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PG_USER}') THEN
    CREATE ROLE ${PG_USER} LOGIN SUPERUSER PASSWORD '${PG_PASSWORD}';
  END IF;
END \$\$;
SQL
  runuser -u postgres -- psql -p "$PG_PORT" -Atqc "select 1 from pg_database where datname = '${PG_DB}'" | grep -q 1 ||
    runuser -u postgres -- createdb -p "$PG_PORT" -O "$PG_USER" "$PG_DB"
  log "PostgreSQL 15 + pgvector and redis-server are installed; scripts/services.sh starts them"
fi

# ---- the test suite's programs ----------------------------------------------------------------
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if ((${#missing[@]})); then
  debian_root || die "the tests need: ${missing[*]} (Debian: apt-get install ${missing[*]})"
  log "installing ${missing[*]} (apt)"
  apt_install --no-install-recommends "${missing[@]}"
fi
log "done"
