#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 from the machine's Debian packages, with
# TEST_DATABASE_URL pointing at it. Exits 0 without running anything when PostgreSQL 15 is absent.
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
if [[ ! -x "$BIN/postgres" ]]; then
  echo "== PostgreSQL 15 not installed ($BIN); skipping the PostgreSQL 15 run"
  exit 0
fi

DIR=$(mktemp -d /tmp/leeway-pg15-XXXXXX)
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[[ $(id -u) -eq 0 ]] && chown postgres "$DIR"

cleanup() {
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

echo "leeway-test" > "$DIR/pw"
[[ $(id -u) -eq 0 ]] && chown postgres "$DIR/pw"
as_pg "$BIN/initdb" -D "$DIR/data" -U leeway --pwfile="$DIR/pw" -A scram-sha-256 -E UTF8 --locale=C >/dev/null
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR -c max_connections=300 -c fsync=off -c full_page_writes=off" start >/dev/null
echo "== $("$BIN/postgres" --version) on port $PORT"

TEST_DATABASE_URL="postgres://leeway:leeway-test@127.0.0.1:$PORT/postgres" "$@"
