#!/usr/bin/env bash
# Requests/s of a one-query route (GET /healthcheck) on PostgreSQL under
# `wrk -t1 -c32 -d<secs>s`, for several pool sizes, with SQLite in the same run for
# comparison. Starts a throwaway PostgreSQL cluster (tests/pg.sh) and stops it.
# Run by hand: bench/pool.sh [seconds] [pool sizes...]. Needs the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
shift || true
sizes=${*:-1 2 4 8}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
make --no-print-directory ferry >/dev/null
root=$(pwd)
pgdir=$(mktemp -d)
rmdir "$pgdir"
tmp=$(mktemp -d)
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; tests/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
url=$(tests/pg.sh start "$pgdir" 2>/dev/null | sed -n "s/^export FERRY_TEST_PG_URL=//p" | tr -d "'\"")
"$root/build/ferry" db init --database "$url" >/dev/null

serve() { # $1 database url, $2 pool size
    (cd "$tmp" && FERRY_DATABASE_POOL_SIZE=$2 exec "$root/build/ferry" serve --migrate --port 18400 \
        --database "$1" --log-level warn 2>>"$tmp/log") &
    pid=$!
    for _ in $(seq 100); do curl -fs http://127.0.0.1:18400/healthcheck >/dev/null && break; sleep 0.1; done
    wrk -t1 -c32 -d"${secs}s" http://127.0.0.1:18400/healthcheck | awk '/Requests\/sec/ {print $2}'
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}
echo "GET /healthcheck (one query per request), wrk -t1 -c32 -d${secs}s, $(nproc) cores:"
for n in $sizes; do echo "  postgresql, pool $n: $(serve "$url" "$n") req/s"; done
echo "  sqlite, pool 4:     $(serve "sqlite:$tmp/f.db" 4) req/s"
