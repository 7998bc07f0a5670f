#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the audit store's tests and print its URL on stdout.
#
#   URL="$(bash tests/pg/start_postgres.sh DATA_DIR PORT)"
#   export PRIMUM_TEST_POSTGRES_URL="$URL"; ...; bash tests/pg/stop_postgres.sh DATA_DIR
#
# DATA_DIR is created (or must be empty) on the first run and reused afterwards.
# The server listens on 127.0.0.1:PORT only, with no Unix socket, and trusts loopback
# connections: it is a test fixture, never a deployment. Run as root, the server runs
# as the `postgres` user (PostgreSQL refuses to run as root). Everything but the URL
# goes to stderr; the server log is DATA_DIR/server.log.
# PG_BIN may name the directory holding initdb/pg_ctl; else the newest
# /usr/lib/postgresql/*/bin, else PATH.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 DATA_DIR PORT" >&2
  exit 2
fi
datadir="$(mkdir -p "$1" && cd "$1" && pwd)"
port="$2"
db=primum_test

bindir="${PG_BIN:-}"
if [[ -z "$bindir" ]]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [[ -n "$bindir" ]]; then
  PATH="$bindir:$PATH"
fi
for tool in initdb pg_ctl pg_isready psql; do
  command -v "$tool" >/dev/null || { echo "$tool not found (set PG_BIN)" >&2; exit 1; }
done

as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- env PATH="$PATH" "$@"
  else
    "$@"
  fi
}

if [[ "$(id -u)" -eq 0 ]]; then
  chown postgres: "$datadir"
  chmod 700 "$datadir"
fi

if [[ ! -f "$datadir/PG_VERSION" ]]; then
  as_owner initdb -D "$datadir" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    >"$datadir.initdb.log" 2>&1 || { cat "$datadir.initdb.log" >&2; exit 1; }
  rm -f "$datadir.initdb.log"
fi

as_owner pg_ctl -D "$datadir" -l "$datadir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c fsync=off" \
  start >&2 || { cat "$datadir/server.log" >&2; exit 1; }

for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" -U postgres && break
  sleep 0.5
done

exists="$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$db'")"
if [[ "$exists" != "1" ]]; then
  psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE $db" >&2
fi

echo "postgresql+psycopg2://postgres@127.0.0.1:$port/$db"
