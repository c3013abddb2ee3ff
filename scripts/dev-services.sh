# Sourced by scripts/setup.sh and scripts/services.sh: the development services' names and probes.
PG_USER=mirix
PG_PASSWORD=mirix_dev_password
PG_DB=mirix_dev
PG_PORT=5432
PG_BIN=/usr/lib/postgresql/15/bin
PG_EXT_DIR=/usr/share/postgresql/15/extension
# Present only in a cluster scripts/setup.sh installed: the one cluster it may tune, start or restart
# (MIRIX_PG_OWNED_CONF moves it, for the tests of these scripts).
PG_OWNED_CONF=${MIRIX_PG_OWNED_CONF:-/etc/postgresql/15/main/conf.d/mirix-dev.conf}
DEFAULT_DATABASE_URL="postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DB}"
DEFAULT_REDIS_URL="redis://127.0.0.1:6379/0"

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

pg_owned() { [[ -f $PG_OWNED_CONF ]]; }
pg_online() { pg_lsclusters -h 2>/dev/null | awk '$1 == "15" && $2 == "main" {print $4}' | grep -q online; }

wait_for() { # $1: description, rest: command
  local what=$1
  shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  printf '%s did not come up within 60 s\n' "$what" >&2
  exit 1
}
