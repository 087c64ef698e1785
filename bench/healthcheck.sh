#!/usr/bin/env bash
# Requests/s of GET /healthcheck (a real database round trip per request) for ferry and,
# side by side in the same run, for the seeds' stack: Flask + gunicorn + sqlite3.
# Run by hand: bench/healthcheck.sh [seconds] [connections]. Needs the release build.
# Prints each figure and the ratio ferry/peer. Installs wrk, gunicorn and Flask from
# Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
need=""
command -v wrk >/dev/null || need="$need wrk"
command -v gunicorn >/dev/null || need="$need gunicorn"
/usr/bin/python3 -c 'import flask' 2>/dev/null || need="$need python3-flask"
[ -z "$need" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null 2>&1
make --no-print-directory ferry >/dev/null

dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

build/ferry serve --migrate --port 18080 --database "sqlite:$dir/ferry.db" --log-level warn \
    2>"$dir/ferry.log" &
pids+=($!)
PEER_DB="$dir/peer.db" gunicorn --chdir bench/peers -w "$(nproc)" -b 127.0.0.1:18081 \
    --log-level warning flask_health:app 2>"$dir/peer.log" &
pids+=($!)
for port in 18080 18081; do
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthcheck" >/dev/null && break; sleep 0.1; done
done

rps() { wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$1/healthcheck" | awk '/Requests\/sec/ {print $2}'; }
ferry=$(rps 18080)
peer=$(rps 18081)
rss=$(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status")
echo "ferry  /healthcheck: $ferry req/s (wrk -t1 -c$conns -d${secs}s), RSS after: ${rss} kB"
echo "flask+gunicorn ($(nproc) workers): $peer req/s"
awk -v a="$ferry" -v b="$peer" 'BEGIN { printf "ratio ferry/peer: %.1fx\n", a / b }'
