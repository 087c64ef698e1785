#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests.
#
#   eval "$(tests/pg.sh start DIR)"   create DIR, initdb, start, create ferry_test; prints
#                                     export FERRY_TEST_PG_URL=... (the test database),
#                                     FERRY_TEST_PG_ADMIN_URL=... (the postgres database),
#                                     FERRY_TEST_PG_PORT, FERRY_TEST_PG_DIR
#   tests/pg.sh restart DIR           restart it (immediate stop), same port and settings
#   tests/pg.sh stop DIR              stop it (by the postmaster's PID) and remove DIR
#
# Besides the superuser `postgres` (trust), the role ferry_pw (password ferry-test-pw,
# superuser) must authenticate with its password over TCP, for the tests of passwords
# in URLs and of a wrong password: FERRY_TEST_PG_PASSWORD_URL connects as it.
#
# The cluster listens on 127.0.0.1 only, on the first free port from PGPORT_BASE
# (55432) upward, with its unix socket inside DIR; authentication is `trust` and
# durability is off (fsync, synchronous_commit, full_page_writes): test data only.
# Root cannot run postgres, so DIR belongs to the `postgres` user and the server runs
# as that user (runuser when root, directly otherwise). Progress goes to stderr; only
# the exports go to stdout.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_BASE=${PGPORT_BASE:-55432}

usage() {
    echo "usage: tests/pg.sh start DIR | restart DIR | stop DIR" >&2
    exit 2
}

# Run a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_free() {
    # Free when nothing accepts on it and no other cluster's socket lock claims it.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && [ ! -e "/tmp/.s.PGSQL.$1.lock" ]
}

start() {
    local dir=$1
    [ -x "$PGBIN/initdb" ] || {
        echo "pg.sh: $PGBIN/initdb not found (apt-get install postgresql-15)" >&2
        exit 1
    }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        # The owner must be able to reach DIR (mktemp -d dirs are 0700 under /tmp: fine).
    fi
    as_owner "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # The password role authenticates for real; everyone else is trusted.
    as_owner sh -c "{ echo 'host all ferry_pw 127.0.0.1/32 scram-sha-256'; cat '$dir/data/pg_hba.conf'; } \
        >'$dir/data/pg_hba.tmp' && mv '$dir/data/pg_hba.tmp' '$dir/data/pg_hba.conf'"
    local port=$PGPORT_BASE tries=0
    while :; do
        while ! port_free "$port"; do port=$((port + 1)); done
        # Settings for throwaway test data: nothing needs to survive a crash.
        if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o \
            "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off
             -c max_connections=200 -c shared_buffers=64MB -c max_wal_size=1GB
             -c checkpoint_timeout=30min -c log_min_messages=warning" >/dev/null 2>"$dir/pg_ctl.err"; then
            break
        fi
        # Lost a race for the port (or another failure): show it after a few attempts.
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ]; then
            cat "$dir/pg_ctl.err" "$dir/server.log" >&2 || true
            exit 1
        fi
        port=$((port + 1))
    done
    local i
    for i in $(seq 1 100); do
        "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
        sleep 0.1
    done
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "postgresql://postgres@127.0.0.1:$port/postgres" \
        -c 'CREATE DATABASE ferry_test' \
        -c "CREATE ROLE ferry_pw LOGIN SUPERUSER PASSWORD 'ferry-test-pw'" >&2
    echo "pg.sh: PostgreSQL $("$PGBIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$port in $dir" >&2
    echo "export FERRY_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/ferry_test"
    echo "export FERRY_TEST_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:$port/postgres"
    echo "export FERRY_TEST_PG_PASSWORD_URL=postgresql://ferry_pw:ferry-test-pw@127.0.0.1:$port/ferry_test"
    echo "export FERRY_TEST_PG_PORT=$port"
    echo "export FERRY_TEST_PG_DIR=$dir"
}

restart() {
    local dir
    dir=$(cd "$1" && pwd)
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m immediate -w -t 30 restart >/dev/null
}

stop() {
    local dir=$1
    [ -d "$dir" ] || return 0
    local pidfile="$dir/data/postmaster.pid"
    if [ -f "$pidfile" ]; then
        local pid
        pid=$(head -n 1 "$pidfile")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            # Immediate: no checkpoint, the data is thrown away anyway.
            kill -QUIT "$pid" 2>/dev/null || true
            local i
            for i in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
            done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
}

[ $# -eq 2 ] || usage
case $1 in
start) start "$2" ;;
restart) restart "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
