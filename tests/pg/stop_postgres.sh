#!/usr/bin/env bash
# Stop the PostgreSQL started by start_postgres.sh:  bash tests/pg/stop_postgres.sh DATA_DIR
# The data directory is kept; delete it yourself when done. Stopping a server that is
# not running is not an error (CI calls this from an EXIT trap).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DATA_DIR" >&2
  exit 2
fi
datadir="$1"

bindir="${PG_BIN:-}"
if [[ -z "$bindir" ]]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [[ -n "$bindir" ]]; then
  PATH="$bindir:$PATH"
fi

if [[ ! -f "$datadir/postmaster.pid" ]]; then
  exit 0
fi
if [[ "$(id -u)" -eq 0 ]]; then
  runuser -u postgres -- env PATH="$PATH" pg_ctl -D "$datadir" -m fast -w stop >&2
else
  pg_ctl -D "$datadir" -m fast -w stop >&2
fi
