#!/usr/bin/env bash
# Rows/s and peak RSS of `ferry import` (both passes: check + infer, then load in one
# transaction), side by side in the same run with each backend's own bulk loader:
#   SQLite:     ferry import  vs  sqlite3 `.import --csv FILE t` (all-text table from the header)
#   PostgreSQL: ferry import  vs  psql `\copy t FROM FILE (FORMAT csv, HEADER true)` into a
#               table with the types ferry inferred (and ferry's row id primary key)
# The CSV comes from bench/gen_csv.c (deterministic, seed 1): ROWS rows (default 1,000,000)
# of 10 columns with quoted commas, quotes, embedded newlines, non-ASCII text, decimals,
# floats, dates, timestamps, booleans, a 40%-empty column, small ints and short codes.
# Each tool runs RUNS times (default 3) on a fresh database, ferry and the peer alternating;
# the figure is the best run (wall time around the whole command, connection included);
# peak RSS is GNU time's maximum resident set size, the largest over the runs.
# With --big, also imports ROWS_BIG rows (default 10,000,000, about 1 GB of CSV) into SQLite
# and reports ferry's peak RSS, which must not grow with the file; the files are removed.
# Run by hand: [ROWS=n] [ROWS_BIG=n] [RUNS=n] [BUILD=dir | BIN=path] bench/ingest.sh [--big]
# (BIN: that binary as it is, no make; else `make BUILD=dir ferry`, default build/).
# Starts a throwaway PostgreSQL cluster (tests/pg.sh) and stops it. Installs GNU time,
# sqlite3 and jq from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
big=0
case ${1:-} in
--big) big=1 ;;
"") ;;
*)
    echo "usage: [ROWS=n] [ROWS_BIG=n] [RUNS=n] [BUILD=dir | BIN=path] bench/ingest.sh [--big]" >&2
    exit 2
    ;;
esac
rows=${ROWS:-1000000}
rows_big=${ROWS_BIG:-10000000}
runs=${RUNS:-3}
build=${BUILD:-build}
need=""
[ -x /usr/bin/time ] || need="$need time"
command -v sqlite3 >/dev/null || need="$need sqlite3"
command -v jq >/dev/null || need="$need jq"
[ -z "$need" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null 2>&1
. bench/common.sh
bench_pick_binary

tmp=$(mktemp -d)
pgdir=$(mktemp -d)
rmdir "$pgdir"
cleanup() { tests/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
cc -std=c11 -O2 -o "$tmp/gen_csv" bench/gen_csv.c
"$tmp/gen_csv" "$rows" 1 >"$tmp/data.csv"
csv_mb=$(du -m "$tmp/data.csv" | cut -f1)
cd "$tmp" # no ferry.yaml of the tree's: the environment and flags only

# timed OUT CMD...: run CMD under GNU time; append "seconds rss_kb" to OUT. Output to $tmp/log.
timed() {
    local out=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    /usr/bin/time -f %M -o "$tmp/rss" "$@" >>"$tmp/log" 2>&1 || {
        echo "failed: $*" >&2
        tail -n 20 "$tmp/log" >&2
        exit 1
    }
    t1=$EPOCHREALTIME
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $(tail -n 1 "$tmp/rss")" >>"$out"
}
# check_count WANT GOT LABEL
check_count() {
    [ "$1" = "$2" ] || {
        echo "$3: $2 rows loaded, expected $1" >&2
        exit 1
    }
}
# summary FILE: "best_rows_per_s median_rows_per_s max_rss_mb all_secs" (median of an even count: the faster middle)
summary() {
    sort -n "$1" | awk -v n="$rows" '{ s[NR] = $1; if ($2 > m) m = $2 }
        END { all = s[1]; for (i = 2; i <= NR; i++) all = all " / " s[i]
              printf "%.0f %.0f %.1f %s\n", n / s[1], n / s[int((NR + 1) / 2)], m / 1024, all }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# ---- SQLite ----------------------------------------------------------------------------
for i in $(seq "$runs"); do
    rm -f "$tmp"/f.db* "$tmp"/p.db*
    echo "sqlite: run $i of $runs" >&2
    FERRY_DATABASE_URL="sqlite:$tmp/f.db" "$ferry" db init >/dev/null
    timed "$tmp/sqlite.ferry" env FERRY_DATABASE_URL="sqlite:$tmp/f.db" \
        "$ferry" import "$tmp/data.csv" --dataset bench
    check_count "$rows" "$(sqlite3 "$tmp/f.db" 'SELECT count(*) FROM bench')" "ferry (sqlite)"
    timed "$tmp/sqlite.peer" sqlite3 "$tmp/p.db" ".import --csv $tmp/data.csv t"
    check_count "$rows" "$(sqlite3 "$tmp/p.db" 'SELECT count(*) FROM t')" "sqlite3 .import"
done
rm -f "$tmp"/f.db* "$tmp"/p.db*
read -r sf_rps sf_med sf_rss sf_all <<<"$(summary "$tmp/sqlite.ferry")"
read -r sp_rps sp_med sp_rss sp_all <<<"$(summary "$tmp/sqlite.peer")"

# ---- PostgreSQL ------------------------------------------------------------------------
# Parsed, not eval-ed: ferry refuses unknown FERRY_* variables in its environment.
admin=$("$root/tests/pg.sh" start "$pgdir" 2>/dev/null | sed -n "s/^export FERRY_TEST_PG_ADMIN_URL=//p" | tr -d "'\"")
[ -n "$admin" ] || { echo "ingest.sh: PostgreSQL did not start (tests/pg.sh start)" >&2; exit 1; }
base=${admin%/postgres}
pg_version=$("$psql" -X -At "$admin" -c 'SHOW server_version' | cut -d' ' -f1)
pgsql() { PGOPTIONS="-c client_min_messages=warning" "$psql" -X -q -v ON_ERROR_STOP=1 "$@" >/dev/null; }
ddl=""
for i in $(seq "$runs"); do
    echo "postgresql: run $i of $runs" >&2
    pgsql "$admin" -c 'DROP DATABASE IF EXISTS fb' -c 'DROP DATABASE IF EXISTS pb' \
        -c 'CREATE DATABASE fb' -c 'CREATE DATABASE pb'
    FERRY_DATABASE_URL="$base/fb" "$ferry" db init >/dev/null
    pgsql "$admin" -c CHECKPOINT
    timed "$tmp/pg.ferry" env FERRY_DATABASE_URL="$base/fb" \
        "$ferry" import "$tmp/data.csv" --dataset bench
    check_count "$rows" "$("$psql" -X -At "$base/fb" -c 'SELECT count(*) FROM bench')" "ferry (pg)"
    if [ -z "$ddl" ]; then
        # The peer's table: ferry's row id key and the types ferry inferred.
        FERRY_DATABASE_URL="$base/fb" "$ferry" datasets show bench >"$tmp/show.json"
        cols=$(jq -r '[.columns[] | select(.generated | not) | .name] | join(",")' "$tmp/show.json")
        ddl=$(jq -r '"CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, " +
            ([.columns[] | select(.generated | not) | .name + " " +
              {boolean: "boolean", integer: "bigint", decimal: "numeric", date: "date",
               timestamp: "timestamp", timestamptz: "timestamptz", text: "text"}[.type]]
             | join(", ")) + ")"' "$tmp/show.json")
    fi
    pgsql "$base/pb" -c "$ddl"
    pgsql "$admin" -c CHECKPOINT
    timed "$tmp/pg.peer" "$psql" -X -q -v ON_ERROR_STOP=1 "$base/pb" \
        -c "\\copy t ($cols) FROM '$tmp/data.csv' WITH (FORMAT csv, HEADER true)"
    check_count "$rows" "$("$psql" -X -At "$base/pb" -c 'SELECT count(*) FROM t')" "psql \\copy"
done
pgsql "$admin" -c 'DROP DATABASE fb' -c 'DROP DATABASE pb'
"$root/tests/pg.sh" stop "$pgdir" >/dev/null 2>&1
read -r pf_rps pf_med pf_rss pf_all <<<"$(summary "$tmp/pg.ferry")"
read -r pp_rps pp_med pp_rss pp_all <<<"$(summary "$tmp/pg.peer")"

# ---- big file: ferry's memory ------------------------------------------------------------
if [ "$big" = 1 ]; then
    rm -f "$tmp/data.csv"
    echo "big: $rows_big rows" >&2
    "$tmp/gen_csv" "$rows_big" 1 >"$tmp/big.csv"
    big_mb=$(du -m "$tmp/big.csv" | cut -f1)
    FERRY_DATABASE_URL="sqlite:$tmp/big.db" "$ferry" db init >/dev/null
    timed "$tmp/rss.big" env FERRY_DATABASE_URL="sqlite:$tmp/big.db" \
        "$ferry" import "$tmp/big.csv" --dataset bench
    check_count "$rows_big" "$(sqlite3 "$tmp/big.db" 'SELECT count(*) FROM bench')" "ferry (big)"
    rm -f "$tmp"/big.*
    read -r bg_secs bg_rss <"$tmp/rss.big"
fi

# ---- report ------------------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "## ferry import, $rows rows ($csv_mb MB CSV), $runs runs of each tool, ferry and peer alternating"
echo
echo "Command: \`ROWS=$rows ${1:+ROWS_BIG=$rows_big }RUNS=$runs $how bench/ingest.sh${1:+ $1}\`"
echo "Machine: $(nproc) cores, ${cpu:-unknown CPU}; SQLite $(sqlite3 --version | cut -d' ' -f1)," \
    "PostgreSQL $pg_version (throwaway cluster, fsync off); $(date -u +%Y-%m-%d)"
echo
echo "| backend | tool | best rows/s | median rows/s | runs, sorted (s) | peak RSS | ferry/peer (best, median) |"
echo "|---|---|---:|---:|---|---:|---|"
echo "| SQLite | \`ferry import\` | $sf_rps | $sf_med | $sf_all | $sf_rss MB |" \
    "$(ratio "$sf_rps" "$sp_rps")x, $(ratio "$sf_med" "$sp_med")x |"
echo "| SQLite | \`sqlite3 .import --csv\` (all text) | $sp_rps | $sp_med | $sp_all | $sp_rss MB | |"
echo "| PostgreSQL | \`ferry import\` | $pf_rps | $pf_med | $pf_all | $pf_rss MB |" \
    "$(ratio "$pf_rps" "$pp_rps")x, $(ratio "$pf_med" "$pp_med")x |"
echo "| PostgreSQL | \`psql \\copy\` (typed table) | $pp_rps | $pp_med | $pp_all | $pp_rss MB (psql) | |"
if [ "$big" = 1 ]; then
    echo "| SQLite, $rows_big rows ($big_mb MB) | \`ferry import\`, once |" \
        "$(awk -v n="$rows_big" -v s="$bg_secs" 'BEGIN { printf "%.0f", n / s }') | | $bg_secs |" \
        "$(awk -v k="$bg_rss" 'BEGIN { printf "%.1f", k / 1024 }') MB (at $rows rows: $sf_rss MB) | |"
fi
echo
echo "Targets: SQLite ferry/sqlite3 >= 2x (aim 4x); PostgreSQL ferry/psql >= 0.9x;" \
    "ferry peak RSS < 32 MB, flat with file size."
