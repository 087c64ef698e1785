# Shared by the bench scripts (sourced, from the repository root): the ferry binary
# to measure. BIN=path takes that binary as it is; otherwise `make BUILD=dir ferry`
# builds it first (dir: $build). Sets how (which of the two, for the report), root
# (the repository), ferry (the binary's absolute path) and psql.
bench_pick_binary() {
    how="BIN=${BIN:-}"
    if [ -z "${BIN:-}" ]; then
        make --no-print-directory BUILD="$build" ferry >/dev/null
        BIN=$build/ferry
        how="BUILD=$build"
    fi
    root=$(pwd)
    ferry=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
    psql=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
}
