#!/usr/bin/env bash
# The cost of authentication per request, measured on one server in one run:
# GET /api/v1/whoami with Hawk, with an API key, and with auth off, each under
# `wrk -t1 -c32 -d<secs>s`. The Hawk header is signed once and replayed, so this run turns
# the nonce check off (auth.nonce_check=0); with it on, add a nonce-cache check
# (~0.3 us in memory, a round trip with Redis). Prints req/s and the ratios.
# Run by hand: bench/auth.sh [seconds]. Needs the release build and Node (for signing).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
make --no-print-directory ferry >/dev/null
[ -d node_modules/@hapi/hawk ] || npm ci --no-audit --no-fund >/dev/null

dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
key=bench-key-0123456789abcdefghijklmnopqrstu
(cd "$dir" && "$OLDPWD/build/ferry" db init --database "sqlite:$dir/f.db" >/dev/null &&
    "$OLDPWD/build/ferry" client add --id bench --key "$key" --scope '*' --database "sqlite:$dir/f.db" >/dev/null)
start() { # $1 port, rest: env (exec: the pid killed at exit is ferry itself)
    local port=$1; shift
    (cd "$dir" && exec env "$@" FERRY_AUTH_NONCE_CHECK=0 FERRY_API_KEY=bench-apikey "$OLDPWD/build/ferry" serve \
        --port "$port" --database "sqlite:$dir/f.db" --log-level warn 2>>"$dir/log") &
    pids+=($!)
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthcheck" >/dev/null && break; sleep 0.1; done
}
start 18180 FERRY_AUTH_ENABLED=1
start 18181 FERRY_AUTH_ENABLED=0
header=$(node -e '
  const Hawk = require("@hapi/hawk");
  const { header } = Hawk.client.header("http://127.0.0.1:18180/api/v1/whoami", "GET",
    { credentials: { id: "bench", key: process.argv[1], algorithm: "sha256" } });
  console.log(header);' "$key")
rps() { wrk -t1 -c32 -d"${secs}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
hawk=$(rps -H "Authorization: $header" http://127.0.0.1:18180/api/v1/whoami)
apikey=$(rps -H "APIKEY: bench-apikey" http://127.0.0.1:18180/api/v1/whoami)
open=$(rps http://127.0.0.1:18181/api/v1/whoami)
echo "GET /api/v1/whoami, wrk -t1 -c32 -d${secs}s:"
echo "  auth off:  $open req/s"
echo "  API key:   $apikey req/s"
echo "  Hawk:      $hawk req/s (client lookup + AES-GCM key open + MAC + response MAC)"
awk -v o="$open" -v a="$apikey" -v h="$hawk" 'BEGIN {
  printf "  Hawk/off %.2f, APIKEY/off %.2f; Hawk adds %.1f us per request on this machine\n",
    h / o, a / o, (1e6 / h - 1e6 / o) }'
