#!/usr/bin/env bash
# Runs every suite of `make test` and ends with one line totalling them:
#   total: N passed, N failed
# Suites: lint (3 checks), fuzz smoke (one per target), unit (Criterion, sanitized, on
# SQLite), unit store+migrate again on PostgreSQL, e2e (node:test against the sanitized
# binary) on SQLite, and e2e again on PostgreSQL. PostgreSQL is a throwaway cluster
# (tests/pg.sh) started first and stopped on exit, whatever happens. Each suite runs
# even if an earlier one failed, so one run shows everything that is wrong. Exit status
# is non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=$(mktemp -d)
pgdir=$(mktemp -d -t ferry-pg-XXXXXX)
cleanup() {
    tests/pg.sh stop "$pgdir" || true
    rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
passed=0
failed=0
summary=""
note() { summary+="  $1"$'\n'; }

# ASan/UBSan: fail on the first report; LeakSanitizer is on (the default on Linux).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== postgresql (throwaway cluster)"
pg_ok=0
if pgenv=$(tests/pg.sh start "$pgdir"); then
    # Plain shell variables, not exported: each suite gets only what it needs, and no
    # FERRY_TEST_* variable reaches a ferry process (ferry rejects unknown FERRY_ keys).
    eval "${pgenv//export /}"
    pg_ok=1
else
    echo "postgresql: the test cluster did not start" >&2
    failed=$((failed + 1))
    note "postgresql cluster: FAILED to start"
fi

echo "== lint"
make --no-print-directory -k lint 2>&1 | tee "$out/lint.txt"
lint_ok=$(grep -c '^lint: .* ok$' "$out/lint.txt")
passed=$((passed + lint_ok))
failed=$((failed + 3 - lint_ok))
note "lint: $lint_ok passed, $((3 - lint_ok)) failed"

echo "== fuzz (bounded smoke run of each libFuzzer target)"
make --no-print-directory fuzz-smoke 2>&1 | tee "$out/fuzz.txt"
passed=$((passed + $(grep -c '^fuzz: .* ok$' "$out/fuzz.txt")))
failed=$((failed + $(grep -c '^fuzz: .* FAILED' "$out/fuzz.txt")))
grep -qE '^fuzz: ' "$out/fuzz.txt" || failed=$((failed + 1))
note "fuzz: $(grep -c '^fuzz: .* ok$' "$out/fuzz.txt") passed, $(grep -c '^fuzz: .* FAILED' "$out/fuzz.txt") failed"

# A Criterion run: add its Synthesis line to the totals. $1 = label, rest = command.
unit_run() {
    local label=$1 file="$out/unit-$1.txt"
    shift
    "$@" 2>&1 | tee "$file"
    local rc=${PIPESTATUS[0]} line tested=0 passing=0
    line=$(grep 'Synthesis:' "$file" | tail -n 1)
    if [ -n "$line" ]; then
        tested=$(sed -E 's/.*Tested: ([0-9]+).*/\1/' <<<"$line")
        passing=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + passing))
        failed=$((failed + tested - passing))
    fi
    if [ "$rc" -ne 0 ] && { [ -z "$line" ] || [ "$tested" -eq "$passing" ]; }; then
        failed=$((failed + 1)) # the runner itself failed (crash, sanitizer report at exit)
        note "unit ($label): $passing passed, $((tested - passing + 1)) failed (runner exit $rc)"
    else
        note "unit ($label): $passing passed, $((tested - passing)) failed"
    fi
}

echo "== unit (SQLite)"
unit_run sqlite "$BUILD/san/unit-tests" --jobs 2

echo "== unit store + migrate (PostgreSQL)"
if [ "$pg_ok" -eq 1 ]; then
    # FERRY_TEST_PG=1: the PostgreSQL-only tests fail rather than skip without a server.
    STORE_TEST_URL=$FERRY_TEST_PG_URL FERRY_TEST_PG=1 FERRY_TEST_PG_ADMIN_URL=$FERRY_TEST_PG_ADMIN_URL \
        unit_run postgresql "$BUILD/san/unit-tests" --jobs 2 --filter '@(store|migrate)/*'
else
    failed=$((failed + 1))
    note "unit (postgresql): NOT RUN (no cluster): counted as a failure"
fi

# One e2e pass: $1 = backend. The same files run on each backend; the ones that
# only make sense on one say so in the file (sqliteOnly/pgOnly, shown as skipped).
e2e_run() {
    local backend=$1 tap="$out/e2e-$1.tap"
    FERRY_E2E_BACKEND=$backend FERRY_BIN="$BUILD/san/ferry" \
        FERRY_TEST_PG_ADMIN_URL=${FERRY_TEST_PG_ADMIN_URL:-} node --test --test-concurrency=2 \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap" \
        tests/e2e/*.test.mjs
    local rc=$? pass fail skip todo
    pass=$(grep -E '^# pass [0-9]+' "$tap" | awk '{print $3}')
    fail=$(grep -E '^# fail [0-9]+' "$tap" | awk '{print $3}')
    skip=$(grep -E '^# skipped [0-9]+' "$tap" | awk '{print $3}')
    todo=$(grep -E '^# todo [0-9]+' "$tap" | awk '{print $3}')
    passed=$((passed + ${pass:-0}))
    failed=$((failed + ${fail:-0}))
    if [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; then
        failed=$((failed + 1)) # the runner itself failed (a crash, a hook)
        fail=1
    fi
    note "e2e ($backend): ${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped (other backend only), ${todo:-0} todo (known bugs)"
}

echo "== e2e (SQLite)"
e2e_run sqlite

echo "== e2e (PostgreSQL)"
if [ "$pg_ok" -eq 1 ]; then
    e2e_run postgresql
else
    failed=$((failed + 1))
    note "e2e (postgresql): NOT RUN (no cluster): counted as a failure"
fi

echo
printf '%s' "$summary"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
