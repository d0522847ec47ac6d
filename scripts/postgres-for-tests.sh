#!/usr/bin/env bash
# Start a throwaway PostgreSQL (Debian's packages) on a loopback port for the test suite, and
# print its URL. Usage: eval "$(scripts/postgres-for-tests.sh start)"; ...; scripts/postgres-for-tests.sh stop
# Installs the server with apt-get when it is missing.
set -euo pipefail
dir="${MHSIP_PG_DIR:-/tmp/mhsip-pg}"
port="${MHSIP_PG_PORT:-54329}"
case "${1:-start}" in
  start)
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
      echo "installing PostgreSQL from Debian's packages..." >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    fi
    bin="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"
    run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
    if [ -f "$dir/data/postmaster.pid" ]; then run "$bin/pg_ctl -D $dir/data stop -m immediate" >&2 || true; fi
    rm -rf "$dir"; mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    run "$bin/initdb -D $dir/data -U mhsip --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    run "setsid $bin/pg_ctl -D $dir/data -l $dir/log -o '-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200' -w start" >/dev/null
    run "$bin/createdb -h 127.0.0.1 -p $port -U mhsip mhsip_test"
    echo "export MHSIP_TEST_POSTGRES_URL=postgres://mhsip@127.0.0.1:$port/mhsip_test"
    ;;
  stop)
    bin="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$bin/pg_ctl -D $dir/data stop -m fast" >/dev/null || true; else "$bin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null || true; fi
    ;;
esac
