#!/usr/bin/env bash
# Runs every suite of `make test` and ends with one line totalling them:
#   total: N passed, N failed
# Suites: lint (3 checks), fuzz smoke (one per target), unit (Criterion, sanitized), e2e (node:test against the
# sanitized binary). Each suite runs even if an earlier one failed, so one run shows
# everything that is wrong. Exit status is non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0

# ASan/UBSan: fail on the first report; LeakSanitizer is on (the default on Linux).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== lint"
make --no-print-directory -k lint 2>&1 | tee "$out/lint.txt"
lint_ok=$(grep -c '^lint: .* ok$' "$out/lint.txt")
passed=$((passed + lint_ok))
failed=$((failed + 3 - lint_ok))

echo "== fuzz (bounded smoke run of each libFuzzer target)"
make --no-print-directory fuzz-smoke 2>&1 | tee "$out/fuzz.txt"
passed=$((passed + $(grep -c '^fuzz: .* ok$' "$out/fuzz.txt")))
failed=$((failed + $(grep -c '^fuzz: .* FAILED' "$out/fuzz.txt")))
grep -qE '^fuzz: ' "$out/fuzz.txt" || failed=$((failed + 1))

echo "== unit"
"$BUILD/san/unit-tests" --jobs 2 2>&1 | tee "$out/unit.txt"
unit_rc=${PIPESTATUS[0]}
line=$(grep 'Synthesis:' "$out/unit.txt" | tail -n 1)
if [ -n "$line" ]; then
    tested=$(sed -E 's/.*Tested: ([0-9]+).*/\1/' <<<"$line")
    passing=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + passing))
    failed=$((failed + tested - passing))
fi
if [ "$unit_rc" -ne 0 ] && { [ -z "$line" ] || [ "$tested" -eq "$passing" ]; }; then
    failed=$((failed + 1)) # the runner itself failed (crash, sanitizer report at exit)
fi

echo "== e2e"
FERRY_BIN="$BUILD/san/ferry" node --test --test-concurrency=2 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$out/e2e.tap" \
    tests/e2e/*.test.mjs
e2e_rc=$?
e2e_pass=$(grep -E '^# pass [0-9]+' "$out/e2e.tap" | awk '{print $3}')
e2e_fail=$(grep -E '^# fail [0-9]+' "$out/e2e.tap" | awk '{print $3}')
passed=$((passed + ${e2e_pass:-0}))
failed=$((failed + ${e2e_fail:-0}))
if [ "$e2e_rc" -ne 0 ] && [ "${e2e_fail:-0}" -eq 0 ]; then
    failed=$((failed + 1)) # the runner itself failed (a crash, a hook)
fi

echo
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
