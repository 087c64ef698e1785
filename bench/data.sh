#!/usr/bin/env bash
# The data API under load, ferry vs the seeds' stack, side by side in one run:
#
#   GET /api/v1/datasets/bench/data?orientation=records&page_size=100&next-id=K
#
# with Hawk (every request signed with @hapi/hawk, its own nonce; both servers check nonces and
# sign their responses), 10 connections, pages from anywhere in a ROWS-row table (K random, the
# same sequence for both), driven by autocannon (bench/data_load.mjs), against
#   - ferry serve (auth on, nonce check on, default threads), and
#   - bench/peers/flask_data.py under gunicorn (2 sync workers): Flask, Hawk checked in Python,
#     a keyset page read with sqlite3 (psycopg2 with --pg) from ferry's own table.
# Prints req/s, p50 and p99 latency and the ratio ferry/Flask. The requests are signed before
# each run (distinct nonces, each sent once); a third row shows ferry with each request signed
# in autocannon's per-request hook instead, i.e. what the load generator's own cost does to the
# figure on a machine whose cores it shares with the server.
#
# Then the CSV export of the whole table (format=csv, API key with scope datasets:read) with
# curl, against the database's own CSV dump of the same rows (`sqlite3 -csv -header` or
# `psql \copy (SELECT ... ORDER BY id) TO STDOUT WITH CSV HEADER`), best of RUNS (default 3),
# rows/s and ratio, and ferry's peak RSS during the exports (VmHWM, reset before them).
#
# Run by hand: [ROWS=n] [RUNS=n] [CONNS=n] [BUILD=dir | BIN=path] bench/data.sh [secs] [--pg]
# (secs: each load run, default 10, at most 45 as the presigned timestamps must stay within
# Hawk's 60 s skew; BIN: that binary as it is, no make; else `make BUILD=dir ferry`, default
# build/). --pg: both servers on a throwaway PostgreSQL cluster (tests/pg.sh) instead of SQLite.
# Installs gunicorn, Flask, psycopg2 (--pg), sqlite3, jq and curl from Debian, and the npm
# devDependencies (autocannon, @hapi/hawk), when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
    echo "usage: [ROWS=n] [RUNS=n] [CONNS=n] [BUILD=dir | BIN=path] bench/data.sh [secs] [--pg]" >&2
    exit 2
}
secs=10
pg=0
for a in "$@"; do
    case $a in
    --pg) pg=1 ;;
    '' | *[!0-9]*) usage ;;
    *) secs=$a ;;
    esac
done
[ "$secs" -ge 1 ] && [ "$secs" -le 45 ] || usage
rows=${ROWS:-1000000}
runs=${RUNS:-3}
conns=${CONNS:-10}
build=${BUILD:-build}
need=""
command -v gunicorn >/dev/null || need="$need gunicorn"
/usr/bin/python3 -c 'import flask' 2>/dev/null || need="$need python3-flask"
[ "$pg" = 0 ] || /usr/bin/python3 -c 'import psycopg2' 2>/dev/null || need="$need python3-psycopg2"
command -v sqlite3 >/dev/null || need="$need sqlite3"
command -v jq >/dev/null || need="$need jq"
command -v curl >/dev/null || need="$need curl"
[ -z "$need" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null 2>&1
[ -d node_modules/autocannon ] && [ -d node_modules/@hapi/hawk ] || npm ci --no-audit --no-fund >/dev/null
. bench/common.sh
bench_pick_binary
fport=18731
pport=18732
id=bench
key=bench-key-0123456789abcdefghijklmnopqrstu
apikey=bench-apikey-0123456789abcdefghijklmnop

tmp=$(mktemp -d)
pgdir=$(mktemp -d)
rmdir "$pgdir"
fpid=
peer_pid=
cleanup() {
    [ -z "$fpid" ] || kill "$fpid" 2>/dev/null || true
    [ -z "$peer_pid" ] || kill "$peer_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    "$root/tests/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "data.sh: $*" >&2
    for f in "$tmp"/ferry.log "$tmp"/peer.log; do [ ! -s "$f" ] || { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
    exit 1
}

load0=$(cut -d' ' -f1 /proc/loadavg)

# ---- data ----------------------------------------------------------------------------------
echo "generating $rows rows" >&2
cc -std=c11 -O2 -o "$tmp/gen_csv" bench/gen_csv.c
"$tmp/gen_csv" "$rows" 1 >"$tmp/data.csv"
if [ "$pg" = 1 ]; then
    # Parsed, not eval-ed: ferry refuses unknown FERRY_* variables in its environment.
    url=$("$root/tests/pg.sh" start "$pgdir" 2>/dev/null | sed -n "s/^export FERRY_TEST_PG_URL=//p" | tr -d "'\"")
    [ -n "$url" ] || fail "PostgreSQL did not start (tests/pg.sh start)"
    backend="PostgreSQL $("$psql" -X -At "$url" -c 'SHOW server_version' | cut -d' ' -f1) (throwaway cluster, fsync off)"
    peer_db=$url
else
    url="sqlite:$tmp/f.db"
    backend="SQLite $(sqlite3 --version | cut -d' ' -f1)"
    peer_db=$tmp/f.db
fi
cd "$tmp" # no ferry.yaml of the tree's: the environment and flags only
export FERRY_DATABASE_URL=$url
"$ferry" db init >/dev/null
echo "importing" >&2
"$ferry" import "$tmp/data.csv" --dataset bench >/dev/null
rm -f "$tmp/data.csv"
"$ferry" client add --id "$id" --key "$key" --scope datasets:read >/dev/null
columns=$("$ferry" datasets show bench | jq -r '[.columns[] | .name + ":" + .type] | join(",")')
if [ "$pg" = 1 ]; then
    "$psql" -X -q "$url" -c 'VACUUM ANALYZE bench' >/dev/null
fi

# ---- servers -------------------------------------------------------------------------------
# Auth on and the nonce check on (defaults, spelled out). auth.nonce_max: room for every nonce
# of the runs (each is kept auth.nonce_ttl_sec, 300 s; the 1M default fills at ~3k req/s over
# the runs' 5 minutes, and a full cache fails closed with 503).
FERRY_AUTH_ENABLED=1 FERRY_AUTH_NONCE_CHECK=1 FERRY_AUTH_NONCE_MAX=4000000 \
    FERRY_API_KEY=$apikey FERRY_API_KEY_SCOPES=datasets:read \
    "$ferry" serve --port "$fport" --log-level warn 2>"$tmp/ferry.log" &
fpid=$!
PEER_DB=$peer_db PEER_COLUMNS=$columns \
    PEER_CLIENTS="{\"$id\": {\"key\": \"$key\", \"scopes\": [\"datasets:read\"]}}" \
    gunicorn --chdir "$root/bench/peers" -w 2 -b "127.0.0.1:$pport" --log-level warning \
    flask_data:app 2>"$tmp/peer.log" &
peer_pid=$!
for port in $fport $pport; do
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthcheck" >/dev/null && break; sleep 0.1; done
    curl -fs "http://127.0.0.1:$port/healthcheck" >/dev/null || fail "no server on port $port"
done
unset FERRY_DATABASE_URL

load() { # port, then data_load.mjs options
    local port=$1
    shift
    node "$root/bench/data_load.mjs" --url "http://127.0.0.1:$port" --dataset bench --rows "$rows" \
        --id "$id" --key "$key" --connections "$conns" "$@"
}
# The same page from both, each response's Server-Authorization checked by @hapi/hawk.
probe=$((rows / 2))
load $fport --probe "$probe" >"$tmp/probe.ferry" || fail "ferry: signed probe request failed"
load $pport --probe "$probe" >"$tmp/probe.peer" || fail "flask: signed probe request failed"
if cmp -s "$tmp/probe.ferry" "$tmp/probe.peer"; then
    same="yes"
else
    same="no (first difference below)"
fi

# ---- CSV export ----------------------------------------------------------------------------
# First, on a fresh server: the peak RSS is the exports' own (VmHWM reset before them).
echo 5 >"/proc/$fpid/clear_refs"
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$fpid/status")
csv_url="http://127.0.0.1:$fport/api/v1/datasets/bench/data?format=csv"
timed() { # out-file command...: appends the seconds the command took
    local out=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    "$@" >/dev/null || fail "export failed: $*"
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$out"
}
ferry_csv() { # the body to /dev/null; "status bytes" to $tmp/csv.got
    curl -sS -o /dev/null -w '%{stderr}%{http_code} %{size_download}' -H "APIKEY: $apikey" \
        "http://127.0.0.1:$fport/api/v1/datasets/bench/data?format=csv" 2>"$tmp/csv.got"
    [ "$(cut -d' ' -f1 "$tmp/csv.got")" = 200 ] || { echo "ferry CSV export: $(cat "$tmp/csv.got")" >&2; return 1; }
}
if [ "$pg" = 1 ]; then
    peer_name='`psql \copy (SELECT * FROM bench ORDER BY id) TO STDOUT WITH CSV HEADER`'
    peer_csv() { "$psql" -X -q "$url" -c '\copy (SELECT * FROM bench ORDER BY id) TO STDOUT WITH CSV HEADER'; }
else
    peer_name="\`sqlite3 -csv -header f.db 'SELECT * FROM bench ORDER BY id'\`"
    peer_csv() { sqlite3 -csv -header "$tmp/f.db" 'SELECT * FROM bench ORDER BY id'; }
fi
for i in $(seq "$runs"); do
    echo "csv export: run $i of $runs" >&2
    timed "$tmp/csv.ferry" ferry_csv
    timed "$tmp/csv.peer" peer_csv
done
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$fpid/status")

# ---- load ----------------------------------------------------------------------------------
run() { # name port [options]: a 2 s warm-up, then the measured run; appends "name json"
    local name=$1 port=$2 out
    shift 2
    echo "load: $name, ${secs}s" >&2
    load "$port" --duration 2 "$@" >/dev/null || fail "$name: warm-up failed"
    out=$(load "$port" --duration "$secs" "$@") || fail "$name: load failed"
    [ "$(jq '.non2xx + .errors + .timeouts' <<<"$out")" = 0 ] || fail "$name: failed requests: $out"
    echo "$name $out" >>"$tmp/results"
}
run ferry $fport
run flask $pport
run ferry-live $fport --sign live
rss_after=$(awk '/^VmRSS/ {print $2}' "/proc/$fpid/status")
field() { awk -v n="$1" '$1 == n { sub(/^[^ ]* /, ""); print }' "$tmp/results" | jq -r ".$2"; }

fc_bytes=$(cut -d' ' -f2 "$tmp/csv.got")
pc_bytes=$(peer_csv | wc -c)
fc_s=$(sort -n "$tmp/csv.ferry" | head -n 1)
pc_s=$(sort -n "$tmp/csv.peer" | head -n 1)
all() { sort -n "$1" | paste -sd/ - | sed 's|/| / |g'; }

# ---- report --------------------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
row() { # name label
    echo "| $2 | $(field "$1" rps) | $(field "$1" p50_ms) | $(field "$1" p99_ms) | $(field "$1" max_ms) |" \
        "$(field "$1" requests) | $(field "$1" mb_per_s) |"
}
echo
echo "## Data API: $rows rows, $backend"
echo
echo "Command: \`ROWS=$rows RUNS=$runs CONNS=$conns $how bench/data.sh $secs$([ "$pg" = 0 ] || echo " --pg")\`"
echo "Machine: $(nproc) cores, ${cpu:-unknown CPU}, load average $load0 at the start; $(date -u +%Y-%m-%d);" \
    "$("$ferry" version 2>/dev/null | head -n 1)"
echo
echo "GET /api/v1/datasets/bench/data?orientation=records&page_size=100&next-id=K, K random;"
echo "Hawk (nonce checked, response signed), autocannon $conns connections, ${secs}s after a 2 s warm-up:"
echo
echo "| server | req/s | p50 ms | p99 ms | max ms | requests | MB/s |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row ferry "ferry ($(nproc) threads)"
row flask "Flask + gunicorn (2 sync workers)"
row ferry-live "ferry, each request signed in autocannon's hook"
echo
echo "ferry/Flask: **$(ratio "$(field ferry rps)" "$(field flask rps)")x** req/s;" \
    "p99 $(field ferry p99_ms) ms vs $(field flask p99_ms) ms." \
    "Same page from both (next-id=$probe, Server-Authorization verified): $same."
echo "Signing in the hook instead of before the run: ferry at $(ratio "$(field ferry-live rps)" "$(field ferry rps)")x" \
    "of its presigned figure (presigning $(field ferry presign_count) requests took $(field ferry presign_sec) s)."
echo
echo "CSV export of all $rows rows, best of $runs (s, sorted):"
echo
echo "| tool | best rows/s | runs (s) | MB | ferry/peer |"
echo "|---|---:|---|---:|---:|"
echo "| ferry \`curl ...?format=csv\` (API key) | $(awk -v n="$rows" -v s="$fc_s" 'BEGIN { printf "%.0f", n / s }') |" \
    "$(all "$tmp/csv.ferry") | $(awk -v b="$fc_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') |" \
    "**$(awk -v a="$pc_s" -v b="$fc_s" 'BEGIN { printf "%.2f", a / b }')x** |"
echo "| $peer_name | $(awk -v n="$rows" -v s="$pc_s" 'BEGIN { printf "%.0f", n / s }') |" \
    "$(all "$tmp/csv.peer") | $(awk -v b="$pc_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') | |"
echo
echo "ferry RSS: $(mb "$rss_before") MB before the exports (first thing after start-up)," \
    "peak during them (VmHWM) $(mb "$hwm") MB; after the load runs $(mb "$rss_after") MB" \
    "(the nonce cache holds every nonce of the runs for auth.nonce_ttl_sec)."
if [ "$same" != yes ]; then
    echo
    echo "Page next-id=$probe differs (ferry, then Flask; first 300 characters from the difference):"
    off=$({ cmp "$tmp/probe.ferry" "$tmp/probe.peer" || true; } | awk '{ sub(/,/, "", $5); print $5 }')
    for f in ferry peer; do echo "    $(tail -c "+$((${off:-1} > 60 ? off - 60 : 1))" "$tmp/probe.$f" | head -c 300)"; done
fi
echo
echo "Targets: ferry/Flask >= 10x (aim 20x), p99 < 5 ms; CSV export at least as fast as the" \
    "database's own dump, RSS flat."
