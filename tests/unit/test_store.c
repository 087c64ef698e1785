/*
 * The shared store suite: written against store.h only, so every backend runs
 * the same tests.
 *
 * Database: STORE_TEST_URL if set (e.g. a postgresql:// URL; every test then
 * uses table names prefixed with a per-test tag and drops them at the end),
 * otherwise a fresh SQLite file in a mkdtemp directory per test.
 *
 * PostgreSQL-only tests (store/pg_*) return early on SQLite. Their environment:
 *   FERRY_TEST_PG=1               PostgreSQL is expected: without a postgresql://
 *                                 STORE_TEST_URL every test fails instead of
 *                                 running on SQLite.
 *   FERRY_TEST_PG_PASSWORD_URL    optional: a URL of a role with a password
 *                                 (its password is replaced to test a wrong one).
 *
 * Where the backends differ in what SQL can express (a blob column type, text
 * holding NUL bytes, a file path), the test asks store_backend() and says why.
 */
#include <criterion/criterion.h>

#include <float.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

/* ---- fixture --------------------------------------------------------------------- */

static char g_dir[PATH_MAX]; /* SQLite: the temporary directory; "" for a URL backend */
static char g_url[PATH_MAX + 64];
static char g_prefix[48];     /* table name prefix: "" for SQLite */
static char g_tables[64][96]; /* tables to drop at the end (URL backend) */
static int g_ntables;

static void fixture_init(void)
{
    const char *env = getenv("STORE_TEST_URL");
    const char *want_pg = getenv("FERRY_TEST_PG");
    g_ntables = 0;
    if (want_pg && strcmp(want_pg, "1") == 0)
        cr_assert(
            env && (strncmp(env, "postgresql://", 13) == 0 || strncmp(env, "postgres://", 11) == 0),
            "FERRY_TEST_PG=1 but STORE_TEST_URL is not a postgresql:// URL");
    if (env && *env) {
        g_dir[0] = '\0';
        snprintf(g_url, sizeof g_url, "%s", env);
        snprintf(g_prefix, sizeof g_prefix, "t%ld_%ld_", (long)getpid(), (long)time(NULL) % 100000);
        return;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/ferry-store-test-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    snprintf(g_url, sizeof g_url, "sqlite:%s/test.db", g_dir);
    g_prefix[0] = '\0';
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static store *open_db(void);

static void fixture_fini(void)
{
    if (g_dir[0]) {
        nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return;
    }
    store *s = open_db();
    /* A failed test may have left a transaction open on a connection it never
     * closed (the process lives on): give up on its tables rather than wait. */
    store_exec(s, "SET lock_timeout = '5s'");
    for (int i = 0; i < g_ntables; i++) {
        struct buf b;
        buf_init(&b, 256);
        buf_puts(&b, "DROP TABLE IF EXISTS ");
        store_quote_ident(g_tables[i], &b);
        store_exec(s, buf_cstr(&b));
        buf_free(&b);
    }
    store_close(s);
}

TestSuite(store, .init = fixture_init, .fini = fixture_fini);

/* A table name unique to this test (borrowed: valid for the test). */
static const char *T(const char *name)
{
    cr_assert_lt(g_ntables, 64);
    char *t = g_tables[g_ntables++];
    snprintf(t, sizeof g_tables[0], "%s%s", g_prefix, name);
    return t;
}

/* printf into one of a few rotating buffers. */
static const char *Q(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *Q(const char *fmt, ...)
{
    static char bufs[8][2048];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

/* The quoted form of an identifier (borrowed, rotating). */
static const char *I(const char *name)
{
    static char bufs[8][256];
    static int next;
    struct buf b;
    buf_init(&b, 200);
    cr_assert_eq(store_quote_ident(name, &b), 0, "quote %s", name);
    char *out = bufs[next++ % 8];
    snprintf(out, sizeof bufs[0], "%s", buf_cstr(&b));
    buf_free(&b);
    return out;
}

static store *open_db(void)
{
    struct store_options opt = {.create = 1};
    char err[256] = "";
    store *s = NULL;
    int rc = store_open(g_url, &opt, &s, err, sizeof err);
    cr_assert_eq(rc, 0, "store_open(%s): %s (%s)", g_url, err_name(rc), err);
    cr_assert_not_null(s);
    return s;
}

static void exec_ok(store *s, const char *sql)
{
    int rc = store_exec(s, sql);
    cr_assert_eq(rc, 0, "exec %s: %s: %s", sql, err_name(rc), store_errmsg(s));
}

static void execv_ok(store *s, const char *sql, const struct store_value *p, size_t n)
{
    int rc = store_execv(s, sql, p, n, NULL);
    cr_assert_eq(rc, 0, "execv %s: %s: %s", sql, err_name(rc), store_errmsg(s));
}

static int64_t count_rows(store *s, const char *table)
{
    int64_t n = -1;
    int rc = store_query_int(s, Q("SELECT count(*) FROM %s", I(table)), NULL, 0, &n);
    cr_assert_eq(rc, 1, "count %s: %s", table, store_errmsg(s));
    return n;
}

static const char *blob_type(store *s)
{
    return store_backend(s) == STORE_SQLITE ? "BLOB" : "BYTEA";
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- connections ----------------------------------------------------------------- */

Test(store, open_close_ping)
{
    store *s = open_db();
    cr_assert_eq(store_ping(s), 0);
    enum store_backend_kind kind;
    cr_assert_eq(store_url_backend(g_url, &kind), 0);
    cr_assert_eq(store_backend(s), kind);
    cr_assert_str_eq(store_backend_name(s), kind == STORE_SQLITE ? "sqlite" : "postgresql");
    cr_assert_not_null(store_default_schema(s));
    cr_assert_not_null(store_errmsg(s));
    cr_assert_eq(store_in_transaction(s), 0);
    store_close(s);
    store_close(NULL);
}

Test(store, open_missing_file_is_notfound)
{
    if (!g_dir[0])
        return; /* a file path only means something to SQLite */
    char url[PATH_MAX + 64], err[256] = "";
    snprintf(url, sizeof url, "sqlite:%s/nope/ferry.db", g_dir);
    struct store_options opt = {0};
    store *s = (store *)1;
    cr_assert_eq(store_open(url, &opt, &s, err, sizeof err), ERR_NOTFOUND);
    cr_assert_null(s);
    cr_assert_not_null(strstr(err, "does not exist"), "%s", err);
    cr_assert_not_null(strstr(err, "ferry db init"), "%s", err);
    cr_assert_eq(store_open(url, NULL, &s, err, sizeof err), ERR_NOTFOUND);

    /* With create, the parent directories are made too. */
    opt.create = 1;
    snprintf(url, sizeof url, "%s/a/b/c.db", g_dir);
    cr_assert_eq(store_open(url, &opt, &s, err, sizeof err), 0, "%s", err);
    store_close(s);
    struct stat sb;
    cr_assert_eq(stat(url, &sb), 0);
    opt.create = 0;
    cr_assert_eq(store_open(url, &opt, &s, err, sizeof err), 0, "%s", err); /* now it exists */
    store_close(s);
}

Test(store, open_bad_url)
{
    char err[256] = "";
    store *s = NULL;
    cr_assert_eq(store_open("mysql://x/y", NULL, &s, err, sizeof err), ERR_INVAL);
    cr_assert_null(s);
    cr_assert_neq(err[0], '\0');
    cr_assert_eq(store_open(NULL, NULL, &s, NULL, 0), ERR_INVAL);
}

Test(store, exec_several_statements)
{
    store *s = open_db();
    const char *t = T("multi");
    exec_ok(s, Q("CREATE TABLE %s (x INTEGER); INSERT INTO %s VALUES (1); "
                 "INSERT INTO %s VALUES (2);",
                 I(t), I(t), I(t)));
    cr_assert_eq(count_rows(s, t), 2);
    store_close(s);
}

/* ---- binds, rows, placeholders -------------------------------------------------------- */

Test(store, bind_and_read_every_type)
{
    store *s = open_db();
    const char *t = T("types");
    exec_ok(s, Q("CREATE TABLE %s (id INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
                 "t TEXT, b %s, f BOOLEAN)",
                 I(t), blob_type(s)));
    const char blob[] = {0, 1, 2, (char)0xff, 0};
    const char *ins = Q("INSERT INTO %s (id, i, d, t, b, f) VALUES ($1, $2, $3, $4, $5, $6)", I(t));
    struct store_value r1[] = {SV_INT(1),        SV_INT(INT64_MAX),          SV_DOUBLE(3.25),
                               SV_TEXT("héllo"), SV_BLOB(blob, sizeof blob), SV_BOOL(1)};
    struct store_value r2[] = {SV_INT(2),       SV_INT(INT64_MIN), SV_DOUBLE(-1e300),
                               SV_TEXTN("", 0), SV_BLOB(NULL, 0),  SV_BOOL(0)};
    struct store_value r3[] = {SV_INT(3),     SV_NULL(), SV_DOUBLE(DBL_MAX),
                               SV_TEXT(NULL), SV_NULL(), SV_NULL()};
    struct store_value r4[] = {SV_INT(4),    SV_INT(-1), SV_DOUBLE(4.9e-324),
                               SV_TEXT("x"), SV_NULL(),  SV_NULL()};
    execv_ok(s, ins, r1, 6);
    execv_ok(s, ins, r2, 6);
    execv_ok(s, ins, r3, 6);
    execv_ok(s, ins, r4, 6);

    store_stmt *st = NULL;
    cr_assert_eq(
        store_prepare(s, Q("SELECT i AS alpha, d, t, b, f FROM %s ORDER BY id", I(t)), &st), 0,
        "%s", store_errmsg(s));
    size_t len;

    cr_assert_eq(store_step(st), STORE_ROW);
    cr_assert_eq(store_column_count(st), 5);
    cr_assert_str_eq(store_column_name(st, 0), "alpha");
    cr_assert_eq(store_column_type(st, 0), STORE_INT);
    cr_assert_eq(store_column_int(st, 0), INT64_MAX);
    cr_assert_str_eq(store_column_text(st, 0, &len), "9223372036854775807");
    cr_assert_eq(len, 19);
    cr_assert_eq(store_column_type(st, 1), STORE_DOUBLE);
    cr_assert_eq(store_column_double(st, 1), 3.25);
    cr_assert_eq(store_column_type(st, 2), STORE_TEXT);
    cr_assert_str_eq(store_column_text(st, 2, &len), "héllo");
    cr_assert_eq(len, strlen("héllo"));
    cr_assert_eq(store_column_type(st, 3), STORE_BLOB);
    const char *p = store_column_text(st, 3, &len);
    cr_assert_eq(len, sizeof blob);
    cr_assert_eq(memcmp(p, blob, sizeof blob), 0);
    cr_assert_eq(store_column_int(st, 4), 1);
    cr_assert_eq(store_column_is_null(st, 4), 0);

    cr_assert_eq(store_step(st), STORE_ROW);
    cr_assert_eq(store_column_int(st, 0), INT64_MIN);
    cr_assert_eq(store_column_double(st, 1), -1e300);
    p = store_column_text(st, 2, &len);
    cr_assert_not_null(p, "empty text is not NULL");
    cr_assert_eq(len, 0);
    cr_assert_eq(store_column_is_null(st, 3), 0, "an empty blob is not NULL");
    p = store_column_text(st, 3, &len);
    cr_assert_not_null(p);
    cr_assert_eq(len, 0);
    cr_assert_eq(store_column_int(st, 4), 0);

    cr_assert_eq(store_step(st), STORE_ROW);
    cr_assert(store_column_is_null(st, 0));
    cr_assert_eq(store_column_type(st, 0), STORE_NULL);
    cr_assert_null(store_column_text(st, 0, &len));
    cr_assert_eq(len, 0);
    cr_assert_eq(store_column_double(st, 1), DBL_MAX);
    cr_assert(store_column_is_null(st, 2), "SV_TEXT(NULL) binds NULL");
    cr_assert(store_column_is_null(st, 3));
    cr_assert(store_column_is_null(st, 4));

    cr_assert_eq(store_step(st), STORE_ROW);
    cr_assert_eq(store_column_int(st, 0), -1);
    cr_assert_eq(store_column_double(st, 1), 4.9e-324);

    /* Out-of-range columns are safe. */
    cr_assert_eq(store_column_int(st, 99), 0);
    cr_assert_null(store_column_text(st, -1, &len));
    cr_assert_null(store_column_name(st, 5));
    cr_assert_eq(store_step(st), STORE_DONE);
    store_stmt_reset(st);
    store_close(s);
}

Test(store, new_sqlite_databases_use_16k_pages_in_wal_mode)
{
    store *s = open_db();
    if (store_backend(s) != STORE_SQLITE) {
        store_close(s);
        return;
    }
    int64_t v = 0;
    cr_assert_eq(store_query_int(s, "PRAGMA page_size", NULL, 0, &v), 1);
    cr_assert_eq(v, 16384);
    struct buf mode;
    buf_init(&mode, 64);
    cr_assert_eq(store_query_text(s, "PRAGMA journal_mode", NULL, 0, &mode), 1);
    cr_assert_str_eq(buf_cstr(&mode), "wal");
    buf_free(&mode);
    store_close(s);
}

Test(store, text_with_nul_bytes_by_length)
{
    store *s = open_db();
    if (store_backend(s) != STORE_SQLITE) {
        store_close(s); /* PostgreSQL text cannot hold NUL; bytes go in blobs */
        return;
    }
    const char txt[] = {'a', 0, 'b'};
    struct store_value v = SV_TEXTN(txt, 3);
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare(s, "SELECT $1, length(CAST($1 AS BLOB))", &st), 0);
    cr_assert_eq(store_bind(st, 1, v), 0);
    cr_assert_eq(store_step(st), STORE_ROW);
    size_t len = 0;
    const char *p = store_column_text(st, 0, &len);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(p, txt, 3), 0);
    cr_assert_eq(store_column_int(st, 1), 3);
    store_stmt_reset(st);
    store_close(s);
}

Test(store, placeholders_out_of_order_and_repeated)
{
    store *s = open_db();
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare(s,
                               "SELECT CAST($2 AS TEXT) || '-' || CAST($1 AS TEXT) || '-' || "
                               "CAST($2 AS TEXT) AS \"$1\", '$1' AS lit, 'it''s $2' AS q "
                               "/* $9 */ -- $8\n",
                               &st),
                 0, "%s", store_errmsg(s));
    /* Bind $2 before $1. */
    cr_assert_eq(store_bind(st, 2, SV_TEXT("b")), 0);
    cr_assert_eq(store_bind(st, 1, SV_TEXT("a")), 0);
    cr_assert_eq(store_step(st), STORE_ROW);
    cr_assert_str_eq(store_column_text(st, 0, NULL), "b-a-b");
    cr_assert_str_eq(store_column_name(st, 0), "$1", "quoted identifier untouched");
    cr_assert_str_eq(store_column_text(st, 1, NULL), "$1", "string literal untouched");
    cr_assert_str_eq(store_column_text(st, 2, NULL), "it's $2");
    cr_assert_eq(store_step(st), STORE_DONE);
    store_stmt_reset(st);

    /* A bind index past the statement's parameters, or below 1, is refused. */
    cr_assert_eq(store_prepare(s, "SELECT CAST($1 AS BIGINT)", &st), 0);
    cr_assert_eq(store_bind(st, 2, SV_INT(1)), ERR_INVAL);
    cr_assert_eq(store_bind(st, 0, SV_INT(1)), ERR_INVAL);
    cr_assert_eq(store_bind(st, 1, SV_INT(7)), 0);
    cr_assert_eq(store_step(st), STORE_ROW);
    cr_assert_eq(store_column_int(st, 0), 7);
    store_stmt_reset(st);
    store_close(s);
}

Test(store, statement_cache_reuse_and_eviction)
{
    store *s = open_db();
    const char *sql = "SELECT CAST($1 AS BIGINT) + 1";
    for (int i = 0; i < 50; i++) {
        store_stmt *st = NULL;
        cr_assert_eq(store_prepare(s, sql, &st), 0);
        cr_assert_eq(store_bind(st, 1, SV_INT(i)), 0);
        cr_assert_eq(store_step(st), STORE_ROW);
        cr_assert_eq(store_column_int(st, 0), i + 1);
        store_stmt_reset(st);
    }
    /* Reset clears binds: an unbound parameter is NULL. */
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare(s, sql, &st), 0);
    cr_assert_eq(store_step(st), STORE_ROW);
    cr_assert(store_column_is_null(st, 0));
    store_stmt_reset(st);

    /* Many distinct statements (past any cache bound), then the first again. */
    for (int i = 0; i < 200; i++) {
        int64_t v = 0;
        cr_assert_eq(store_query_int(s, Q("SELECT %d", i), NULL, 0, &v), 1);
        cr_assert_eq(v, i);
    }
    cr_assert_eq(store_prepare(s, sql, &st), 0);
    cr_assert_eq(store_bind(st, 1, SV_INT(41)), 0);
    cr_assert_eq(store_step(st), STORE_ROW);
    cr_assert_eq(store_column_int(st, 0), 42);

    /* The same SQL while the first use is still open: a second, independent statement. */
    store_stmt *st2 = NULL;
    cr_assert_eq(store_prepare(s, sql, &st2), 0);
    cr_assert_neq(st, st2);
    cr_assert_eq(store_bind(st2, 1, SV_INT(1)), 0);
    cr_assert_eq(store_step(st2), STORE_ROW);
    cr_assert_eq(store_column_int(st2, 0), 2);
    cr_assert_eq(store_column_int(st, 0), 42);
    store_stmt_reset(st2);
    store_stmt_reset(st);
    store_close(s);
}

Test(store, prepare_refuses_several_statements)
{
    store *s = open_db();
    store_stmt *st = (store_stmt *)1;
    cr_assert_eq(store_prepare(s, "SELECT 1; SELECT 2", &st), ERR_INVAL);
    cr_assert_null(st);
    cr_assert_eq(store_prepare(s, "SELECT 1;  ", &st), 0, "a trailing ';' is fine");
    store_stmt_reset(st);
    store_close(s);
}

Test(store, changes_counts_rows)
{
    store *s = open_db();
    const char *t = T("chg");
    exec_ok(s, Q("CREATE TABLE %s (x INTEGER)", I(t)));
    int64_t n = -1;
    cr_assert_eq(store_execv(s, Q("INSERT INTO %s VALUES (1), (2), (3)", I(t)), NULL, 0, &n), 0);
    cr_assert_eq(n, 3);
    struct store_value p = SV_INT(1);
    cr_assert_eq(store_execv(s, Q("UPDATE %s SET x = x + 10 WHERE x > $1", I(t)), &p, 1, &n), 0);
    cr_assert_eq(n, 2);
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare(s, Q("DELETE FROM %s WHERE x > $1", I(t)), &st), 0);
    cr_assert_eq(store_bind(st, 1, SV_INT(12)), 0);
    cr_assert_eq(store_step(st), STORE_DONE);
    cr_assert_eq(store_changes(st), 1);
    store_stmt_reset(st);
    cr_assert_eq(count_rows(s, t), 2);
    store_close(s);
}

Test(store, query_helpers)
{
    store *s = open_db();
    const char *t = T("qh");
    exec_ok(s, Q("CREATE TABLE %s (k TEXT, v BIGINT)", I(t)));
    struct store_value row[] = {SV_TEXT("a"), SV_INT(5)};
    execv_ok(s, Q("INSERT INTO %s VALUES ($1, $2)", I(t)), row, 2);
    struct buf b;
    buf_init(&b, 1024);
    buf_puts(&b, "old");
    struct store_value k = SV_TEXT("a");
    cr_assert_eq(store_query_text(s, Q("SELECT k FROM %s WHERE k = $1", I(t)), &k, 1, &b), 1);
    cr_assert_str_eq(buf_cstr(&b), "a");
    k = SV_TEXT("zz");
    cr_assert_eq(store_query_text(s, Q("SELECT k FROM %s WHERE k = $1", I(t)), &k, 1, &b), 0);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(store_query_text(s, Q("SELECT max(k) FROM %s WHERE v > 100", I(t)), NULL, 0, &b),
                 0, "NULL counts as none");
    int64_t v = 0;
    cr_assert_eq(store_query_int(s, Q("SELECT v FROM %s", I(t)), NULL, 0, &v), 1);
    cr_assert_eq(v, 5);
    cr_assert_eq(store_query_int(s, Q("SELECT v FROM %s WHERE v < 0", I(t)), NULL, 0, &v), 0);
    cr_assert_eq(store_query_int(s, "SELEC 1", NULL, 0, &v), ERR_STORE);
    buf_free(&b);
    store_close(s);
}

/* ---- transactions and errors ---------------------------------------------------------- */

Test(store, transactions_commit_and_rollback)
{
    store *s = open_db();
    const char *t = T("tx");
    exec_ok(s, Q("CREATE TABLE %s (x INTEGER)", I(t)));
    cr_assert_eq(store_rollback(s), 0, "rollback without a transaction is a no-op");

    cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_in_transaction(s), 1);
    cr_assert_eq(store_begin(s), ERR_INVAL, "transactions do not nest");
    exec_ok(s, Q("INSERT INTO %s VALUES (1)", I(t)));
    cr_assert_eq(store_rollback(s), 0);
    cr_assert_eq(store_in_transaction(s), 0);
    cr_assert_eq(count_rows(s, t), 0);

    cr_assert_eq(store_begin(s), 0);
    exec_ok(s, Q("INSERT INTO %s VALUES (1)", I(t)));
    cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_in_transaction(s), 0);
    cr_assert_eq(count_rows(s, t), 1);
    cr_assert_eq(store_commit(s), ERR_INVAL, "commit without a transaction");
    cr_assert_eq(store_rollback(s), 0);

    /* Closing with an open transaction rolls it back. */
    cr_assert_eq(store_begin(s), 0);
    exec_ok(s, Q("INSERT INTO %s VALUES (2)", I(t)));
    store_close(s);
    s = open_db();
    cr_assert_eq(count_rows(s, t), 1);
    store_close(s);
}

Test(store, constraint_violations)
{
    store *s = open_db();
    const char *p = T("parent"), *c = T("child");
    exec_ok(s, Q("CREATE TABLE %s (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                 "n INTEGER CHECK (n >= 0))",
                 I(p)));
    exec_ok(s, Q("CREATE TABLE %s (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES %s (id))", I(c),
                 I(p)));
    const char *ins = Q("INSERT INTO %s (id, name, n) VALUES ($1, $2, $3)", I(p));
    struct store_value ok[] = {SV_INT(1), SV_TEXT("a"), SV_INT(1)};
    execv_ok(s, ins, ok, 3);
    struct store_value dup_pk[] = {SV_INT(1), SV_TEXT("b"), SV_INT(1)};
    struct store_value dup_name[] = {SV_INT(2), SV_TEXT("a"), SV_INT(1)};
    struct store_value null_name[] = {SV_INT(3), SV_NULL(), SV_INT(1)};
    struct store_value bad_check[] = {SV_INT(4), SV_TEXT("d"), SV_INT(-1)};
    cr_assert_eq(store_execv(s, ins, dup_pk, 3, NULL), ERR_CONSTRAINT);
    cr_assert_eq(store_execv(s, ins, dup_name, 3, NULL), ERR_CONSTRAINT);
    cr_assert_neq(store_errmsg(s)[0], '\0');
    cr_assert_eq(store_execv(s, ins, null_name, 3, NULL), ERR_CONSTRAINT);
    cr_assert_eq(store_execv(s, ins, bad_check, 3, NULL), ERR_CONSTRAINT);
    struct store_value fk[] = {SV_INT(1), SV_INT(99)};
    cr_assert_eq(store_execv(s, Q("INSERT INTO %s VALUES ($1, $2)", I(c)), fk, 2, NULL),
                 ERR_CONSTRAINT, "foreign keys are enforced");
    cr_assert_eq(count_rows(s, p), 1);
    store_close(s);
}

Test(store, syntax_error_is_store_error)
{
    store *s = open_db();
    cr_assert_eq(store_exec(s, "SELEC 1"), ERR_STORE);
    cr_assert_neq(store_errmsg(s)[0], '\0');
    store_stmt *st = (store_stmt *)1;
    cr_assert_eq(store_prepare(s, "SELEC 1", &st), ERR_STORE);
    cr_assert_null(st);
    cr_assert_neq(store_errmsg(s)[0], '\0');
    cr_assert_eq(store_prepare(s, Q("SELECT * FROM %s", I(T("no_such_table"))), &st), ERR_STORE);
    cr_assert_eq(store_ping(s), 0, "the connection still works");
    store_close(s);
}

/* ---- identifiers and introspection --------------------------------------------------- */

Test(store, quote_ident_rules)
{
    struct buf b;
    buf_init(&b, 1024);
    cr_assert_eq(store_quote_ident("plain", &b), 0);
    cr_assert_str_eq(buf_cstr(&b), "\"plain\"");
    buf_reset(&b);
    cr_assert_eq(store_quote_ident("a\"b\"\"", &b), 0);
    cr_assert_str_eq(buf_cstr(&b), "\"a\"\"b\"\"\"\"\"");
    buf_reset(&b);
    cr_assert_eq(store_quote_ident("org.dataset", &b), 0);
    cr_assert_str_eq(buf_cstr(&b), "\"org.dataset\"");

    char max[STORE_IDENT_MAX + 2];
    memset(max, 'x', sizeof max);
    max[STORE_IDENT_MAX] = '\0';
    buf_reset(&b);
    cr_assert_eq(store_quote_ident(max, &b), 0, "exactly the limit is fine");
    max[STORE_IDENT_MAX] = 'x';
    max[STORE_IDENT_MAX + 1] = '\0';

    buf_reset(&b);
    buf_puts(&b, "keep");
    const char *bad[] = {"",
                         max,
                         "\xff",
                         "a\xc3",            /* truncated sequence */
                         "\xc0\xaf",         /* overlong '/' */
                         "\xed\xa0\x80",     /* surrogate */
                         "\xf4\x90\x80\x80", /* past U+10FFFF */
                         "tab\there",
                         "new\nline",
                         "del\x7f",
                         "c1\xc2\x85"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(store_quote_ident(bad[i], &b), ERR_INVAL, "bad[%zu] accepted", i);
        cr_assert_str_eq(buf_cstr(&b), "keep", "out unchanged on error");
    }
    cr_assert_eq(store_quote_ident(NULL, &b), ERR_INVAL);
    cr_assert_eq(store_quote_identn("a\0b", 3, &b), ERR_INVAL, "NUL inside a name");
    cr_assert_eq(store_quote_identn("ab", 2, &b), 0);
    cr_assert_str_eq(buf_cstr(&b), "keep\"ab\"");

    /* 64 bytes of 2-byte characters is too long; 31 of them (62 bytes) is fine. */
    char u[STORE_IDENT_MAX + 8] = "";
    for (int i = 0; i < 31; i++)
        strncat(u, "é", sizeof u - strlen(u) - 1);
    buf_reset(&b);
    cr_assert_eq(store_quote_ident(u, &b), 0);
    strncat(u, "é", sizeof u - strlen(u) - 1);
    cr_assert_eq(store_quote_ident(u, &b), ERR_INVAL);

    /* A full buffer is ERR_TOOBIG and leaves it unchanged. */
    struct buf small;
    buf_init(&small, 4);
    cr_assert_eq(store_quote_ident("abcdef", &small), ERR_TOOBIG);
    cr_assert_eq(small.len, 0);
    buf_free(&small);
    buf_free(&b);
}

Test(store, quote_qualified)
{
    store *s = open_db();
    struct buf b;
    buf_init(&b, 1024);
    cr_assert_eq(store_quote_qualified(s, NULL, "t\"1", &b), 0);
    char want[128];
    snprintf(want, sizeof want, "\"%s\".\"t\"\"1\"", store_default_schema(s));
    cr_assert_str_eq(buf_cstr(&b), want);
    buf_reset(&b);
    cr_assert_eq(store_quote_qualified(s, "x y", "z", &b), 0);
    cr_assert_str_eq(buf_cstr(&b), "\"x y\".\"z\"");
    buf_reset(&b);
    cr_assert_eq(store_quote_qualified(s, NULL, "", &b), ERR_INVAL);
    cr_assert_eq(b.len, 0);
    buf_free(&b);
    store_close(s);
}

Test(store, weird_identifiers_round_trip)
{
    store *s = open_db();
    const char *tables[] = {T("my table"), T("quo\"te"), T("ünïcødé 表"), T("org.dataset"),
                            T("semi;colon -- x")};
    const char *cols[] = {"col one", "a\"b", "ü", "x.y", "select"};
    for (size_t k = 0; k < sizeof tables / sizeof tables[0]; k++) {
        struct buf sql, qt;
        buf_init(&sql, 4096);
        buf_init(&qt, 256);
        cr_assert_eq(store_quote_qualified(s, NULL, tables[k], &qt), 0);
        buf_printf(&sql, "CREATE TABLE %s (", buf_cstr(&qt));
        for (size_t i = 0; i < 5; i++)
            buf_printf(&sql, "%s%s TEXT", i ? ", " : "", I(cols[i]));
        buf_puts(&sql, ")");
        exec_ok(s, buf_cstr(&sql));

        int exists = 0;
        cr_assert_eq(store_table_exists(s, NULL, tables[k], &exists), 0, "%s", store_errmsg(s));
        cr_assert_eq(exists, 1, "table %s", tables[k]);
        struct store_column_info *ci = NULL;
        size_t n = 0;
        cr_assert_eq(store_table_columns(s, NULL, tables[k], &ci, &n), 0, "%s", store_errmsg(s));
        cr_assert_eq(n, 5);
        for (size_t i = 0; i < 5; i++)
            cr_assert_str_eq(ci[i].name, cols[i]);
        store_columns_free(ci, n);

        buf_reset(&sql);
        buf_printf(&sql, "INSERT INTO %s (%s) VALUES ($1)", buf_cstr(&qt), I(cols[1]));
        struct store_value v = SV_TEXT("val");
        execv_ok(s, buf_cstr(&sql), &v, 1);
        buf_reset(&sql);
        buf_printf(&sql, "SELECT %s FROM %s", I(cols[1]), buf_cstr(&qt));
        struct buf got;
        buf_init(&got, 64);
        cr_assert_eq(store_query_text(s, buf_cstr(&sql), NULL, 0, &got), 1);
        cr_assert_str_eq(buf_cstr(&got), "val");
        buf_free(&got);
        buf_free(&sql);
        buf_free(&qt);
    }
    store_close(s);
}

Test(store, table_exists_tables_and_views)
{
    store *s = open_db();
    const char *t = T("exists_t"), *v = T("exists_v");
    int e = -1;
    cr_assert_eq(store_table_exists(s, NULL, t, &e), 0);
    cr_assert_eq(e, 0);
    exec_ok(s, Q("CREATE TABLE %s (x INTEGER)", I(t)));
    exec_ok(s, Q("CREATE VIEW %s AS SELECT x FROM %s", I(v), I(t)));
    cr_assert_eq(store_table_exists(s, NULL, t, &e), 0);
    cr_assert_eq(e, 1);
    cr_assert_eq(store_table_exists(s, store_default_schema(s), v, &e), 0);
    cr_assert_eq(e, 1, "views count");
    cr_assert_eq(store_table_exists(s, "no_such_schema_x", t, &e), 0);
    cr_assert_eq(e, 0, "unknown schema: not there");
    cr_assert_eq(store_table_exists(s, NULL, "", &e), ERR_INVAL);
    exec_ok(s, Q("DROP VIEW %s", I(v)));
    store_close(s);
}

Test(store, table_columns_types_notnull_pk)
{
    store *s = open_db();
    const char *t = T("cols");
    exec_ok(s, Q("CREATE TABLE %s (a INTEGER NOT NULL, b VARCHAR(100), c TEXT NOT NULL, "
                 "d DOUBLE PRECISION, PRIMARY KEY (c, a))",
                 I(t)));
    struct store_column_info *ci = NULL;
    size_t n = 0;
    cr_assert_eq(store_table_columns(s, NULL, t, &ci, &n), 0, "%s", store_errmsg(s));
    cr_assert_eq(n, 4);
    cr_assert_str_eq(ci[0].name, "a");
    cr_assert_str_eq(ci[0].type, "integer");
    cr_assert_eq(ci[0].notnull, 1);
    cr_assert_eq(ci[0].pk, 2);
    cr_assert_str_eq(ci[1].name, "b");
    cr_assert(strstr(ci[1].type, "varchar") || strstr(ci[1].type, "character varying"), "%s",
              ci[1].type);
    cr_assert_not_null(strstr(ci[1].type, "(100)"), "%s", ci[1].type);
    cr_assert_eq(ci[1].notnull, 0);
    cr_assert_eq(ci[1].pk, 0);
    cr_assert_str_eq(ci[2].type, "text");
    cr_assert_eq(ci[2].notnull, 1);
    cr_assert_eq(ci[2].pk, 1);
    cr_assert_str_eq(ci[3].type, "double precision");
    cr_assert_eq(ci[3].pk, 0);
    store_columns_free(ci, n);

    ci = (struct store_column_info *)1;
    cr_assert_eq(store_table_columns(s, NULL, T("missing_cols"), &ci, &n), ERR_NOTFOUND);
    cr_assert_null(ci);
    cr_assert_eq(n, 0);
    store_columns_free(NULL, 0);
    store_close(s);
}

/* ---- upsert, RETURNING, loader ------------------------------------------------------------ */

Test(store, upsert_and_returning)
{
    store *s = open_db();
    const char *t = T("kv");
    exec_ok(s, Q("CREATE TABLE %s (k TEXT PRIMARY KEY, v BIGINT NOT NULL)", I(t)));
    const char *up = Q("INSERT INTO %s AS kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE "
                       "SET v = kv.v + excluded.v RETURNING v",
                       I(t));
    for (int i = 1; i <= 3; i++) {
        struct store_value p[] = {SV_TEXT("a"), SV_INT(10)};
        int64_t v = 0;
        cr_assert_eq(store_query_int(s, up, p, 2, &v), 1, "%s", store_errmsg(s));
        cr_assert_eq(v, 10 * i);
    }
    cr_assert_eq(count_rows(s, t), 1);
    struct store_value k = SV_TEXT("a");
    struct buf b;
    buf_init(&b, 64);
    cr_assert_eq(store_query_text(s, Q("DELETE FROM %s WHERE k = $1 RETURNING k", I(t)), &k, 1, &b),
                 1);
    cr_assert_str_eq(buf_cstr(&b), "a");
    cr_assert_eq(count_rows(s, t), 0);
    /* store_execv runs RETURNING statements to the end without reading rows. */
    int64_t n = 0;
    struct store_value p[] = {SV_TEXT("b"), SV_INT(1)};
    cr_assert_eq(store_execv(s, up, p, 2, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(count_rows(s, t), 1);
    buf_free(&b);
    store_close(s);
}

Test(store, loader_in_transaction)
{
    store *s = open_db();
    const char *t = T("load me");
    exec_ok(s, Q("CREATE TABLE %s (id BIGINT PRIMARY KEY, \"the name\" TEXT, v DOUBLE PRECISION, "
                 "b %s)",
                 I(t), blob_type(s)));
    const char *cols[] = {"id", "the name", "v", "b"};
    const int N = 2000;

    for (int pass = 0; pass < 2; pass++) {
        cr_assert_eq(store_begin(s), 0);
        store_loader *ld = NULL;
        cr_assert_eq(store_loader_begin(s, NULL, t, cols, 4, &ld), 0, "%s", store_errmsg(s));
        for (int i = 0; i < N; i++) {
            char name[32];
            snprintf(name, sizeof name, "row %d", i);
            struct store_value row[] = {SV_INT(i), i % 10 ? SV_TEXT(name) : SV_NULL(),
                                        SV_DOUBLE(i / 4.0), SV_BLOB(name, 3)};
            cr_assert_eq(store_loader_row(ld, row), 0, "%s", store_errmsg(s));
        }
        int64_t rows = -1;
        cr_assert_eq(store_loader_end(ld, &rows), 0, "%s", store_errmsg(s));
        cr_assert_eq(rows, N);
        cr_assert_eq(count_rows(s, t), N);
        if (pass == 0) {
            cr_assert_eq(store_rollback(s), 0);
            cr_assert_eq(count_rows(s, t), 0, "rollback removes the loaded rows");
        } else {
            cr_assert_eq(store_commit(s), 0);
        }
    }
    cr_assert_eq(count_rows(s, t), N);
    int64_t v = 0;
    cr_assert_eq(store_query_int(s, Q("SELECT count(*) FROM %s WHERE \"the name\" IS NULL", I(t)),
                                 NULL, 0, &v),
                 1);
    cr_assert_eq(v, N / 10);
    store_close(s);
}

Test(store, loader_reports_bad_row)
{
    store *s = open_db();
    const char *t = T("load_bad");
    exec_ok(s, Q("CREATE TABLE %s (id BIGINT PRIMARY KEY, name TEXT NOT NULL)", I(t)));
    const char *cols[] = {"id", "name"};
    cr_assert_eq(store_begin(s), 0);
    store_loader *ld = NULL;
    cr_assert_eq(store_loader_begin(s, NULL, t, cols, 2, &ld), 0, "%s", store_errmsg(s));
    int rc = 0;
    for (int i = 1; i <= 5 && rc == 0; i++) {
        struct store_value row[] = {SV_INT(i == 3 ? 1 : i), SV_TEXT("x")}; /* row 3 repeats id 1 */
        rc = store_loader_row(ld, row);
    }
    if (rc == 0) {
        rc = store_loader_end(ld, NULL); /* a backend may find the bad row only here */
    } else {
        store_loader_abort(ld);
    }
    cr_assert_eq(rc, ERR_CONSTRAINT, "%s", err_name(rc));
    cr_assert_not_null(strstr(store_errmsg(s), "row 3"), "%s", store_errmsg(s));
    cr_assert_eq(store_rollback(s), 0);
    cr_assert_eq(count_rows(s, t), 0);

    /* A bad row inside a full batch (SQLite inserts 64 rows per statement; COPY
     * names the row itself): the error still locates it. */
    cr_assert_eq(store_begin(s), 0);
    cr_assert_eq(store_loader_begin(s, NULL, t, cols, 2, &ld), 0, "%s", store_errmsg(s));
    rc = 0;
    for (int i = 1; i <= 200 && rc == 0; i++) {
        struct store_value row[] = {SV_INT(i == 150 ? 7 : i), SV_TEXT("x")};
        rc = store_loader_row(ld, row);
    }
    if (rc == 0)
        rc = store_loader_end(ld, NULL);
    else
        store_loader_abort(ld);
    cr_assert_eq(rc, ERR_CONSTRAINT, "%s", err_name(rc));
    const char *where = store_backend(s) == STORE_SQLITE ? "rows 129-192" : "row 150";
    cr_assert_not_null(strstr(store_errmsg(s), where), "%s", store_errmsg(s));
    cr_assert_eq(store_rollback(s), 0);
    cr_assert_eq(count_rows(s, t), 0);

    /* Bad arguments: unknown table, invalid column name. */
    cr_assert_lt(store_loader_begin(s, NULL, T("no_such_load"), cols, 2, &ld), 0);
    cr_assert_null(ld);
    const char *badcols[] = {"id", ""};
    cr_assert_eq(store_loader_begin(s, NULL, t, badcols, 2, &ld), ERR_INVAL);
    store_loader_abort(NULL);
    store_close(s);
}

/* ---- pools ---------------------------------------------------------------------------------- */

static store_pool *open_pool(int max)
{
    struct store_options opt = {.create = 1, .busy_timeout_ms = 10000};
    char err[256] = "";
    store_pool *p = NULL;
    int rc = store_pool_open(g_url, &opt, max, &p, err, sizeof err);
    cr_assert_eq(rc, 0, "pool: %s", err);
    return p;
}

Test(store, pool_bounded_and_times_out)
{
    store_pool *p = open_pool(2);
    store *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq(store_pool_acquire(p, 100, &a), 0);
    cr_assert_eq(store_pool_acquire(p, 100, &b), 0);
    cr_assert_neq(a, b);
    double t0 = now_ms();
    cr_assert_eq(store_pool_acquire(p, 150, &c), ERR_UNAVAILABLE);
    double waited = now_ms() - t0;
    cr_assert_null(c);
    cr_assert_geq(waited, 140.0, "waited %.1f ms", waited);
    cr_assert_lt(waited, 2000.0);
    cr_assert_eq(store_pool_acquire(p, 0, &c), ERR_UNAVAILABLE);
    store_pool_release(p, a);
    cr_assert_eq(store_pool_acquire(p, 0, &c), 0);
    cr_assert_eq(c, a, "the released connection is reused");
    cr_assert_eq(store_ping(c), 0);
    cr_assert_eq(store_pool_backend(p), store_backend(c));
    store_pool_release(p, b);
    store_pool_release(p, c);
    store_pool_release(p, NULL);
    store_pool_close(p);
    store_pool_close(NULL);
}

struct waiter {
    store_pool *p;
    int rc;
    store *got;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->rc = store_pool_acquire(w->p, 5000, &w->got);
    return NULL;
}

Test(store, pool_release_wakes_a_waiter)
{
    store_pool *p = open_pool(1);
    store *a = NULL;
    cr_assert_eq(store_pool_acquire(p, 100, &a), 0);
    struct waiter w = {.p = p, .rc = 99};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, waiter_main, &w), 0);
    usleep(50 * 1000);
    store_pool_release(p, a);
    pthread_join(th, NULL);
    cr_assert_eq(w.rc, 0);
    cr_assert_eq(w.got, a);
    store_pool_release(p, w.got);
    store_pool_close(p);
}

struct writer {
    store_pool *p;
    const char *table;
    int id;
    int failures;
};

#define WRITES 100

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    store *s = NULL;
    if (store_pool_acquire(w->p, 5000, &s) < 0) {
        w->failures = WRITES;
        return NULL;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (who, n) VALUES ($1, $2)", w->table);
    for (int i = 0; i < WRITES; i++) {
        struct store_value v[] = {SV_INT(w->id), SV_INT(i)};
        /* Half the writes in explicit transactions, half in autocommit. */
        int tx = i % 2 == 0;
        if (tx && store_begin(s) < 0) {
            w->failures++;
            continue;
        }
        int rc = store_execv(s, sql, v, 2, NULL);
        if (rc == 0 && tx)
            rc = store_commit(s);
        if (rc < 0) {
            store_rollback(s);
            w->failures++;
        }
    }
    store_pool_release(w->p, s);
    return NULL;
}

Test(store, pool_concurrent_writers)
{
    const char *t = T("concurrent");
    store_pool *p = open_pool(4);
    store *s = NULL;
    cr_assert_eq(store_pool_acquire(p, 100, &s), 0);
    exec_ok(s, Q("CREATE TABLE %s (who INTEGER, n INTEGER)", I(t)));
    store_pool_release(p, s);

    struct writer w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct writer){.p = p, .table = t, .id = i};
        cr_assert_eq(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(w[i].failures, 0, "writer %d failed %d times", i, w[i].failures);
    cr_assert_eq(store_pool_acquire(p, 100, &s), 0);
    cr_assert_eq(count_rows(s, t), 4 * WRITES);
    store_pool_release(p, s);
    store_pool_close(p);
}

Test(store, pool_release_rolls_back)
{
    const char *t = T("pool_rb");
    store_pool *p = open_pool(1);
    store *s = NULL;
    cr_assert_eq(store_pool_acquire(p, 100, &s), 0);
    exec_ok(s, Q("CREATE TABLE %s (x INTEGER)", I(t)));
    exec_ok(s, Q("INSERT INTO %s VALUES (1), (2)", I(t)));
    cr_assert_eq(store_begin(s), 0);
    exec_ok(s, Q("INSERT INTO %s VALUES (3)", I(t)));
    /* A statement left mid-iteration is reset too. */
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare(s, Q("SELECT x FROM %s", I(t)), &st), 0);
    cr_assert_eq(store_step(st), STORE_ROW);
    store_pool_release(p, s);

    s = NULL;
    cr_assert_eq(store_pool_acquire(p, 100, &s), 0);
    cr_assert_eq(store_in_transaction(s), 0);
    cr_assert_eq(count_rows(s, t), 2);
    exec_ok(s, Q("INSERT INTO %s VALUES (4)", I(t)));
    cr_assert_eq(count_rows(s, t), 3);
    store_pool_release(p, s);
    store_pool_close(p);
}

Test(store, pool_open_errors)
{
    char err[256] = "";
    store_pool *p = (store_pool *)1;
    cr_assert_eq(store_pool_open(g_url, NULL, 0, &p, err, sizeof err), ERR_INVAL);
    cr_assert_null(p);
    cr_assert_eq(store_pool_open("nonsense", NULL, 2, &p, err, sizeof err), ERR_INVAL);
    if (g_dir[0]) {
        char url[PATH_MAX + 64];
        snprintf(url, sizeof url, "sqlite:%s/missing.db", g_dir);
        cr_assert_eq(store_pool_open(url, NULL, 2, &p, err, sizeof err), ERR_NOTFOUND);
        cr_assert_not_null(strstr(err, "does not exist"), "%s", err);
    }
}

/* ---- streams (store_prepare_stream) --------------------------------------------------------- */

/* More than three batches of STORE_STREAM_BATCH rows. */
#define STREAM_ROWS 10000

/* Create table t (id, i, d, t, n, f, b) and load rows id = 1..nrows: i = 3 id - 5000,
 * d = id + 0.5, t = "row-<id>", n NULL, f = id is odd, b = 3 bytes {0, 1, id % 251} on
 * every 1000th row, else NULL. */
static void make_stream_table(store *s, const char *t, int nrows)
{
    exec_ok(s, Q("CREATE TABLE %s (id INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
                 "t TEXT, n TEXT, f BOOLEAN, b %s)",
                 I(t), blob_type(s)));
    const char *cols[] = {"id", "i", "d", "t", "n", "f", "b"};
    store_loader *ld = NULL;
    cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_loader_begin(s, NULL, t, cols, 7, &ld), 0, "%s", store_errmsg(s));
    for (int id = 1; id <= nrows; id++) {
        char text[32], blob[3] = {0, 1, (char)(id % 251)};
        snprintf(text, sizeof text, "row-%d", id);
        struct store_value row[] = {SV_INT(id),
                                    SV_INT(3 * (int64_t)id - 5000),
                                    SV_DOUBLE(id + 0.5),
                                    SV_TEXT(text),
                                    SV_NULL(),
                                    SV_BOOL(id % 2),
                                    id % 1000 == 0 ? SV_BLOB(blob, 3) : SV_NULL()};
        cr_assert_eq(store_loader_row(ld, row), 0, "%s", store_errmsg(s));
    }
    cr_assert_eq(store_loader_end(ld, NULL), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
}

/* The SQL that streams the table of make_stream_table in id order. */
static const char *stream_sql(const char *t)
{
    return Q("SELECT id, i, d, t, n, f, b FROM %s ORDER BY id", I(t));
}

/* Does the current row of st hold row id of make_stream_table, with the right
 * types? 1, or 0 with the first difference in why. (Plain checks: a Criterion
 * assertion per value of 10000 rows would be slow.) Each type is read before the
 * text: on SQLite reading a blob as text converts it. */
static int stream_row_ok(store_stmt *st, int64_t id, char *why, size_t whylen)
{
    char want[32];
    size_t len = 0;
    const char *p;
    snprintf(want, sizeof want, "row-%lld", (long long)id);
#define CHECK(cond, ...)                        \
    do {                                        \
        if (!(cond)) {                          \
            snprintf(why, whylen, __VA_ARGS__); \
            return 0;                           \
        }                                       \
    } while (0)
    CHECK(store_column_count(st) == 7, "id %lld: %d columns", (long long)id,
          store_column_count(st));
    CHECK(store_column_type(st, 0) == STORE_INT && store_column_int(st, 0) == id,
          "id %lld: id is %lld", (long long)id, (long long)store_column_int(st, 0));
    CHECK(store_column_type(st, 1) == STORE_INT && store_column_int(st, 1) == 3 * id - 5000,
          "id %lld: i is %lld", (long long)id, (long long)store_column_int(st, 1));
    CHECK(store_column_type(st, 2) == STORE_DOUBLE && store_column_double(st, 2) == id + 0.5,
          "id %lld: d is %g (type %d)", (long long)id, store_column_double(st, 2),
          (int)store_column_type(st, 2));
    enum store_type type = store_column_type(st, 3);
    p = store_column_text(st, 3, &len);
    CHECK(type == STORE_TEXT && p && len == strlen(want) && strcmp(p, want) == 0,
          "id %lld: t is %s", (long long)id, p ? p : "NULL");
    CHECK(store_column_is_null(st, 4) && store_column_type(st, 4) == STORE_NULL &&
              !store_column_text(st, 4, NULL),
          "id %lld: n is not NULL", (long long)id);
    type = store_column_type(st, 5);
    p = store_column_text(st, 5, &len);
    CHECK(type == STORE_INT && store_column_int(st, 5) == id % 2 && p && len == 1 &&
              p[0] == (id % 2 ? '1' : '0'),
          "id %lld: f is %s (type %d)", (long long)id, p ? p : "NULL", (int)type);
    if (id % 1000 == 0) {
        type = store_column_type(st, 6);
        p = store_column_text(st, 6, &len);
        CHECK(type == STORE_BLOB && p && len == 3 && p[0] == 0 && p[1] == 1 &&
                  p[2] == (char)(id % 251),
              "id %lld: b is wrong (type %d, %zu bytes)", (long long)id, (int)type, len);
    } else {
        CHECK(store_column_is_null(st, 6), "id %lld: b is not NULL", (long long)id);
    }
#undef CHECK
    return 1;
}

/* Step st to the end (or at most max rows when max > 0), checking that the rows
 * are those of make_stream_table from id first on. Returns the rows read; the
 * step's result (STORE_DONE, STORE_ROW when max stopped it, <0) goes to *last. */
static int64_t stream_read(store_stmt *st, int64_t first, int64_t max, int *last)
{
    char why[256] = "";
    int64_t n = 0;
    int rc;
    while ((max <= 0 || n < max) && (rc = store_step(st)) == STORE_ROW) {
        cr_assert(stream_row_ok(st, first + n, why, sizeof why), "%s", why);
        n++;
    }
    if (max > 0 && n == max)
        rc = STORE_ROW;
    *last = rc;
    return n;
}

/* Cursors open on s's PostgreSQL session (0 on SQLite). pg_cursors lists the
 * unnamed portal of the asking query too: only named ones count. */
static int64_t open_cursors(store *s)
{
    if (store_backend(s) != STORE_POSTGRESQL)
        return 0;
    int64_t n = -1;
    cr_assert_eq(
        store_query_int(s, "SELECT count(*) FROM pg_cursors WHERE name <> ''", NULL, 0, &n), 1,
        "%s", store_errmsg(s));
    return n;
}

/* Check that s is usable after a stream: not in a transaction, no cursor, and it
 * reads and writes (a write fails in a READ ONLY transaction left open). */
static void expect_usable(store *s, const char *t)
{
    cr_assert_eq(store_in_transaction(s), 0, "the stream's transaction ended");
    cr_assert_eq(open_cursors(s), 0, "the cursor was closed");
    int64_t before = count_rows(s, t);
    struct store_value v[] = {SV_INT(before + 1), SV_TEXT("added")};
    execv_ok(s, Q("INSERT INTO %s (id, t) VALUES ($1, $2)", I(t)), v, 2);
    cr_assert_eq(count_rows(s, t), before + 1);
    execv_ok(s, Q("DELETE FROM %s WHERE id = $1", I(t)), v, 1);
}

Test(store, stream_reads_every_row_in_batches)
{
    store *s = open_db();
    const char *t = T("stream_all");
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_not_null(st);
    int last = 0;
    int64_t n = stream_read(st, 1, 10, &last);
    cr_assert_eq(n, 10);
    cr_assert_str_eq(store_column_name(st, 3), "t");
    if (store_backend(s) == STORE_POSTGRESQL) {
        /* A cursor in a transaction the stream opened, not a buffered result. */
        cr_assert_eq(store_in_transaction(s), 1);
        cr_assert_eq(open_cursors(s), 1);
        cr_assert_eq(store_begin(s), ERR_INVAL, "transactions do not nest");
    }
    n += stream_read(st, 11, 0, &last);
    cr_assert_eq(last, STORE_DONE, "%s: %s", err_name(last), store_errmsg(s));
    cr_assert_eq(n, STREAM_ROWS);
    if (store_backend(s) == STORE_POSTGRESQL) { /* SQLite would run the statement again */
        cr_assert_eq(store_step(st), STORE_DONE, "done stays done");
        cr_assert(store_column_is_null(st, 0), "no row after the end");
    }
    store_stmt_reset(st);
    expect_usable(s, t);

    /* A statement of its own each time, outside the cache: two streams of the
     * same SQL are two statements. */
    store_stmt *a = NULL, *b = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &a), 0);
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &b), 0);
    cr_assert_neq(a, b);
    store_stmt_reset(a);
    store_stmt_reset(b);
    store_close(s);
}

Test(store, stream_binds)
{
    store *s = open_db();
    const char *t = T("stream_binds");
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare_stream(s,
                                      Q("SELECT id, t FROM %s WHERE id > $1 AND id <= $2 AND "
                                        "t <> $3 ORDER BY id",
                                        I(t)),
                                      &st),
                 0, "%s", store_errmsg(s));
    struct store_value v[] = {SV_INT(1234), SV_INT(8765), SV_TEXT("row-5000")};
    cr_assert_eq(store_bind_all(st, v, 3), 0, "%s", store_errmsg(s));
    int64_t n = 0, want = 1235;
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        if (want == 5000)
            want++;
        if (store_column_int(st, 0) != want)
            break;
        want++;
        n++;
    }
    cr_assert_eq(rc, STORE_DONE, "%s: %s (at id %lld)", err_name(rc), store_errmsg(s),
                 (long long)want);
    cr_assert_eq(n, 8765 - 1234 - 1);
    store_stmt_reset(st);

    /* The parameter types are those of an ordinary statement: an integer bind
     * where the server infers text or int4 is sent as int8. A trailing ';' is
     * fine. */
    cr_assert_eq(store_prepare_stream(s, "SELECT $1 + 1 AS x, $2 AS y;", &st), 0, "%s",
                 store_errmsg(s));
    struct store_value w[] = {SV_INT(INT64_MAX - 1), SV_INT(-7)};
    cr_assert_eq(store_bind_all(st, w, 2), 0);
    cr_assert_eq(store_step(st), STORE_ROW, "%s", store_errmsg(s));
    cr_assert_eq(store_column_int(st, 0), INT64_MAX);
    cr_assert_eq(store_column_type(st, 1), STORE_INT);
    cr_assert_eq(store_column_int(st, 1), -7);
    cr_assert_eq(store_step(st), STORE_DONE);
    store_stmt_reset(st);

    /* A bind index beyond the SQL's parameters is refused as for any statement. */
    cr_assert_eq(store_prepare_stream(s, Q("SELECT id FROM %s WHERE id = $1", I(t)), &st), 0);
    cr_assert_eq(store_bind(st, 2, SV_INT(1)), ERR_INVAL);
    store_stmt_reset(st);
    store_close(s);
}

Test(store, stream_reset_midway_then_reuse)
{
    store *s = open_db();
    const char *t = T("stream_mid");
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    int last = 0;
    cr_assert_eq(stream_read(st, 1, 2500, &last), 2500, "past the first batch");
    store_stmt_reset(st);
    expect_usable(s, t);
    int64_t v = 0;
    cr_assert_eq(store_query_int(s, Q("SELECT i FROM %s WHERE id = 7", I(t)), NULL, 0, &v), 1);
    cr_assert_eq(v, 21 - 5000);

    /* A new stream reads everything again. */
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(stream_read(st, 1, 0, &last), STREAM_ROWS);
    cr_assert_eq(last, STORE_DONE, "%s", store_errmsg(s));
    store_stmt_reset(st);

    /* Reset before the first step, and reset of a stream that returned nothing. */
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0);
    store_stmt_reset(st);
    cr_assert_eq(store_prepare_stream(s, Q("SELECT id FROM %s WHERE id < 0", I(t)), &st), 0);
    cr_assert_eq(store_step(st), STORE_DONE);
    cr_assert_eq(store_step(st), STORE_DONE);
    store_stmt_reset(st);
    expect_usable(s, t);
    store_close(s);
}

Test(store, stream_inside_caller_transaction)
{
    store *s = open_db();
    const char *t = T("stream_tx");
    make_stream_table(s, t, STREAM_ROWS);
    cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
    struct store_value v[] = {SV_INT(STREAM_ROWS + 1)};
    execv_ok(s, Q("INSERT INTO %s (id) VALUES ($1)", I(t)), v, 1);

    store_stmt *st = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    int last = 0;
    cr_assert_eq(stream_read(st, 1, 3000, &last), 3000);
    cr_assert_eq(count_rows(s, t), STREAM_ROWS + 1, "other statements meanwhile");
    store_stmt_reset(st);
    cr_assert_eq(store_in_transaction(s), 1, "the caller's transaction is still open");
    cr_assert_eq(open_cursors(s), 0, "the cursor is closed at once");

    /* A full stream in the transaction sees its uncommitted row. */
    cr_assert_eq(store_prepare_stream(s, Q("SELECT id FROM %s ORDER BY id", I(t)), &st), 0);
    int64_t n = 0;
    while ((last = store_step(st)) == STORE_ROW)
        n++;
    cr_assert_eq(last, STORE_DONE, "%s", store_errmsg(s));
    cr_assert_eq(n, STREAM_ROWS + 1);
    store_stmt_reset(st);
    cr_assert_eq(store_in_transaction(s), 1);

    v[0] = SV_INT(STREAM_ROWS + 2);
    execv_ok(s, Q("INSERT INTO %s (id) VALUES ($1)", I(t)), v, 1);
    cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_in_transaction(s), 0);
    cr_assert_eq(count_rows(s, t), STREAM_ROWS + 2, "both writes committed");
    store_close(s);
}

Test(store, stream_sql_errors_leave_connection_usable)
{
    store *s = open_db();
    const char *t = T("stream_err");
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *st = (store_stmt *)1;
    cr_assert_eq(store_prepare_stream(s, "SELEC 1", &st), ERR_STORE);
    cr_assert_null(st);
    cr_assert_neq(store_errmsg(s)[0], '\0');
    cr_assert_eq(store_prepare_stream(s, "SELECT 1; SELECT 2", &st), ERR_INVAL);
    cr_assert_eq(store_prepare_stream(NULL, "SELECT 1", &st), ERR_INVAL);
    cr_assert_eq(store_prepare_stream(s, NULL, &st), ERR_INVAL);
    cr_assert_eq(store_prepare_stream(s, "SELECT 1", NULL), ERR_INVAL);
    expect_usable(s, t);

    /* An error in the middle, in the third batch: abs() of the smallest int64
     * overflows on both backends. */
    const char *bad = Q("SELECT id, abs(CASE WHEN id = 4500 THEN -9223372036854775807 - 1 "
                        "ELSE id END) FROM %s ORDER BY id",
                        I(t));
    cr_assert_eq(store_prepare_stream(s, bad, &st), 0, "%s", store_errmsg(s));
    int64_t n = 0;
    int rc;
    while ((rc = store_step(st)) == STORE_ROW)
        n++;
    cr_assert_lt(rc, 0, "the error is reported");
    cr_assert_geq(n, 2 * STORE_STREAM_BATCH, "%lld rows before it", (long long)n);
    cr_assert_lt(n, 4500);
    if (store_backend(s) == STORE_POSTGRESQL) /* SQLite would run the statement again */
        cr_assert_lt(store_step(st), 0, "and again until the reset");
    store_stmt_reset(st);
    expect_usable(s, t);

    /* Then a stream works. */
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    int last = 0;
    cr_assert_eq(stream_read(st, 1, 0, &last), STREAM_ROWS);
    cr_assert_eq(last, STORE_DONE);
    store_stmt_reset(st);

    if (store_backend(s) == STORE_POSTGRESQL) {
        /* A bind the server refuses fails the DECLARE (the first step). */
        cr_assert_eq(store_prepare_stream(s, Q("SELECT id FROM %s WHERE id = $1", I(t)), &st), 0);
        cr_assert_eq(store_bind(st, 1, SV_TEXT("abc")), 0);
        cr_assert_eq(store_step(st), ERR_STORE);
        cr_assert_not_null(strstr(store_errmsg(s), "integer"), "%s", store_errmsg(s));
        store_stmt_reset(st);
        expect_usable(s, t);

        /* A write in the stream's READ ONLY transaction fails, and fails the
         * transaction, so the stream too. */
        cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0);
        cr_assert_eq(store_step(st), STORE_ROW);
        struct store_value v[] = {SV_INT(STREAM_ROWS + 1)};
        cr_assert_eq(store_execv(s, Q("INSERT INTO %s (id) VALUES ($1)", I(t)), v, 1, NULL),
                     ERR_STORE);
        cr_assert_not_null(strstr(store_errmsg(s), "read-only"), "%s", store_errmsg(s));
        while ((rc = store_step(st)) == STORE_ROW)
            ;
        cr_assert_eq(rc, ERR_STORE);
        store_stmt_reset(st);
        expect_usable(s, t);

        /* In the caller's transaction the failure is the caller's to roll back. */
        cr_assert_eq(store_begin(s), 0);
        cr_assert_eq(store_prepare_stream(s, bad, &st), 0);
        while ((rc = store_step(st)) == STORE_ROW)
            ;
        cr_assert_eq(rc, ERR_STORE);
        store_stmt_reset(st);
        cr_assert_eq(store_in_transaction(s), 1);
        cr_assert_eq(store_rollback(s), 0);
        expect_usable(s, t);
    }
    store_close(s);
}

Test(store, stream_two_at_once_and_other_statements)
{
    store *s = open_db();
    const char *t = T("stream_two");
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *a = NULL, *b = NULL, *q = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &a), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &b), 0, "%s", store_errmsg(s));
    int la = 0, lb = 0;
    for (int64_t k = 0; k < 5; k++) {
        cr_assert_eq(stream_read(a, 1 + k * 1000, 1000, &la), 1000, "%s", store_errmsg(s));
        cr_assert_eq(stream_read(b, 1 + k * 700, 700, &lb), 700, "%s", store_errmsg(s));
        /* An ordinary statement in between, itself left in use for a while. */
        cr_assert_eq(store_prepare(s, Q("SELECT t FROM %s WHERE id = $1", I(t)), &q), 0);
        cr_assert_eq(store_bind(q, 1, SV_INT(k + 1)), 0);
        cr_assert_eq(store_step(q), STORE_ROW, "%s", store_errmsg(s));
        cr_assert_str_eq(store_column_text(q, 0, NULL), Q("row-%lld", (long long)k + 1));
        cr_assert_eq(count_rows(s, t), STREAM_ROWS);
        store_stmt_reset(q);
    }
    /* Resetting the first stream leaves the second one's cursor and snapshot. */
    store_stmt_reset(a);
    if (store_backend(s) == STORE_POSTGRESQL) {
        cr_assert_eq(store_in_transaction(s), 1);
        cr_assert_eq(open_cursors(s), 1);
    }
    cr_assert_eq(stream_read(b, 3501, 0, &lb), STREAM_ROWS - 3500);
    cr_assert_eq(lb, STORE_DONE, "%s", store_errmsg(s));
    store_stmt_reset(b);
    expect_usable(s, t);
    store_close(s);
}

Test(store, stream_reads_one_snapshot)
{
    store *s = open_db(), *w = open_db();
    const char *t = T("stream_snap");
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    int last = 0;
    cr_assert_eq(stream_read(st, 1, 1, &last), 1);
    /* Another connection adds and removes rows meanwhile. */
    struct store_value v[] = {SV_INT(STREAM_ROWS + 1)};
    execv_ok(w, Q("INSERT INTO %s (id) VALUES ($1)", I(t)), v, 1);
    execv_ok(w, Q("DELETE FROM %s WHERE id = 9000", I(t)), NULL, 0);
    cr_assert_eq(count_rows(w, t), STREAM_ROWS);
    /* The stream, and other statements on its connection, still see the old rows. */
    int64_t id9000 = 0;
    cr_assert_eq(
        store_query_int(s, Q("SELECT count(*) FROM %s WHERE id = 9000", I(t)), NULL, 0, &id9000),
        1);
    cr_assert_eq(id9000, 1, "the same snapshot on the stream's connection");
    cr_assert_eq(stream_read(st, 2, 0, &last), STREAM_ROWS - 1);
    cr_assert_eq(last, STORE_DONE, "%s", store_errmsg(s));
    store_stmt_reset(st);
    cr_assert_eq(
        store_query_int(s, Q("SELECT count(*) FROM %s WHERE id = 9000", I(t)), NULL, 0, &id9000),
        1);
    cr_assert_eq(id9000, 0, "after the reset, the new data");
    store_close(w);
    store_close(s);
}

/* On PostgreSQL a stream sends the FETCH of its next batch as soon as it takes
 * one, so a FETCH is in flight right after the step that took a batch (rows 1,
 * 2001, 4001...). Whatever else uses the connection then must first read it
 * into the stream; these tests run other statements, other streams, a COPY,
 * commits and resets at those points. (On SQLite they check the same
 * behaviour, with nothing in flight.) */

/* What statements_between runs; each kind reaches the server its own way. */
enum between {
    BETWEEN_CACHED,  /* a cached statement (PQexecPrepared) */
    BETWEEN_NEW,     /* new SQL: prepared, its parameters described */
    BETWEEN_RETYPED, /* a cached statement prepared again for its bind (DEALLOCATE) */
    BETWEEN_EXEC,    /* store_exec */
    BETWEEN_PING,    /* store_ping */
    BETWEEN_KINDS
};

/* The statements BETWEEN_RETYPED uses: "id < $1" (inferred int4, the type of
 * id) made unique by k. Prepared and run once with a small bind before the
 * stream, so that a bind beyond int4 prepares them again. */
static const char *retyped_sql(const char *t, int k)
{
    return Q("SELECT count(*) FROM %s WHERE id < $1 AND %d = %d", I(t), k, k);
}

/* Run statement kind on s, as the first thing after the stream's step of row
 * id (on PostgreSQL, with the FETCH of its next batch maybe in flight). */
static void statements_between(store *s, const char *t, enum between kind, int64_t id)
{
    static int unique;
    int64_t v = 0;
    struct store_value p[] = {SV_INT(id)};
    if (store_backend(s) == STORE_POSTGRESQL)
        cr_assert_eq(store_in_transaction(s), 1, "at id %lld: the stream's transaction",
                     (long long)id);
    switch (kind) {
    case BETWEEN_CACHED:
        cr_assert_eq(store_query_int(s, Q("SELECT i FROM %s WHERE id = $1", I(t)), p, 1, &v), 1,
                     "at id %lld: %s", (long long)id, store_errmsg(s));
        cr_assert_eq(v, 3 * id - 5000);
        break;
    case BETWEEN_NEW: {
        struct buf b;
        buf_init(&b, 64);
        cr_assert_eq(
            store_query_text(s, Q("SELECT t FROM %s WHERE id = $1 AND %d > 0", I(t), ++unique), p,
                             1, &b),
            1, "a new statement at id %lld: %s", (long long)id, store_errmsg(s));
        cr_assert_str_eq(buf_cstr(&b), Q("row-%lld", (long long)id));
        buf_free(&b);
        break;
    }
    case BETWEEN_RETYPED: {
        struct store_value big[] = {SV_INT(INT64_C(1) << 40)};
        cr_assert_eq(store_query_int(s, retyped_sql(t, (int)(id / STORE_STREAM_BATCH)), big, 1, &v),
                     1, "at id %lld: %s", (long long)id, store_errmsg(s));
        cr_assert_eq(v, STREAM_ROWS);
        break;
    }
    case BETWEEN_EXEC:
        cr_assert_eq(store_exec(s, "SELECT 1"), 0, "%s", store_errmsg(s));
        break;
    case BETWEEN_PING:
        cr_assert_eq(store_ping(s), 0, "%s", store_errmsg(s));
        break;
    default:
        cr_assert_fail("kind %d", (int)kind);
    }
}

Test(store, stream_statements_between_batches)
{
    store *s = open_db();
    const char *t = T("stream_between");
    make_stream_table(s, t, STREAM_ROWS);
    char why[256] = "";
    /* Each kind of statement in turn is the first to meet the FETCH in flight
     * (after rows 1, 2001, ...: the steps that took a batch); and in the middle
     * of a batch, and after its last row. */
    for (int kind = 0; kind < BETWEEN_KINDS; kind++) {
        struct store_value small[] = {SV_INT(1)};
        int64_t v = 0;
        for (int k = 0; kind == BETWEEN_RETYPED && k <= STREAM_ROWS / STORE_STREAM_BATCH; k++)
            cr_assert_eq(store_query_int(s, retyped_sql(t, k), small, 1, &v), 1, "%s",
                         store_errmsg(s));
        cr_assert_eq(store_query_int(s, Q("SELECT i FROM %s WHERE id = $1", I(t)), small, 1, &v),
                     1);
        store_stmt *st = NULL;
        cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
        int64_t n = 0;
        int rc;
        while ((rc = store_step(st)) == STORE_ROW) {
            n++;
            cr_assert(stream_row_ok(st, n, why, sizeof why), "%s (kind %d)", why, kind);
            if (n % STORE_STREAM_BATCH == 1 ||
                (kind != BETWEEN_RETYPED && (n % 777 == 0 || n % STORE_STREAM_BATCH == 0))) {
                statements_between(s, t, (enum between)kind, n);
                /* The current row reads the same after them (not the blob again:
                 * SQLite converted it to text when stream_row_ok read it). */
                cr_assert_eq(store_column_int(st, 0), n);
                cr_assert_str_eq(store_column_text(st, 3, NULL), Q("row-%lld", (long long)n));
            }
        }
        cr_assert_eq(rc, STORE_DONE, "kind %d: %s: %s", kind, err_name(rc), store_errmsg(s));
        cr_assert_eq(n, STREAM_ROWS, "every row, in order");
        store_stmt_reset(st);
        expect_usable(s, t);
    }
    store_close(s);
}

Test(store, stream_reset_with_fetch_in_flight)
{
    store *s = open_db();
    const char *t = T("stream_inflight");
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *st = NULL;
    int last = 0;
    /* Reset right after each batch was taken, and in its middle. */
    int64_t stops[] = {1, 2, STORE_STREAM_BATCH + 1, 3 * STORE_STREAM_BATCH + 1, 5000};
    for (size_t k = 0; k < sizeof stops / sizeof stops[0]; k++) {
        cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
        cr_assert_eq(stream_read(st, 1, stops[k], &last), stops[k]);
        if (store_backend(s) == STORE_POSTGRESQL)
            cr_assert_eq(store_in_transaction(s), 1);
        store_stmt_reset(st);
        expect_usable(s, t);
    }
    /* The same in the caller's transaction: only the cursor goes. */
    cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(stream_read(st, 1, 1, &last), 1);
    store_stmt_reset(st);
    cr_assert_eq(store_in_transaction(s), 1);
    cr_assert_eq(open_cursors(s), 0);
    struct store_value v[] = {SV_INT(STREAM_ROWS + 1)};
    execv_ok(s, Q("INSERT INTO %s (id) VALUES ($1)", I(t)), v, 1);
    cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(count_rows(s, t), STREAM_ROWS + 1);
    execv_ok(s, Q("DELETE FROM %s WHERE id = $1", I(t)), v, 1);
    /* Then a new stream reads everything. */
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(stream_read(st, 1, 0, &last), STREAM_ROWS);
    cr_assert_eq(last, STORE_DONE, "%s", store_errmsg(s));
    store_stmt_reset(st);
    expect_usable(s, t);
    /* Closing the connection with a FETCH in flight. */
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(stream_read(st, 1, 1, &last), 1);
    store_close(s);
}

/* Step st to its end, checking ids from first; returns the rows read and the
 * last step's result in *last (stream_read without the per-value checks). */
static int64_t stream_count(store_stmt *st, int64_t first, int *last)
{
    int64_t n = 0;
    while ((*last = store_step(st)) == STORE_ROW) {
        cr_assert_eq(store_column_int(st, 0), first + n);
        n++;
    }
    return n;
}

/* Does msg report the overflow of abs() (PostgreSQL: "bigint out of range",
 * SQLite: "integer overflow")? */
static int overflowed(const char *msg)
{
    return strstr(msg, "out of range") || strstr(msg, "overflow");
}

Test(store, stream_error_in_fetch_in_flight)
{
    store *s = open_db();
    const char *t = T("stream_inflight_err");
    make_stream_table(s, t, STREAM_ROWS);
    /* Row 2500, in the second batch: abs() of the smallest int64 overflows on
     * both backends (on PostgreSQL in the FETCH sent ahead when the first
     * batch was taken). */
    char bad[256]; /* its own copy: Q's buffers rotate */
    snprintf(bad, sizeof bad,
             "SELECT id, abs(CASE WHEN id = 2500 THEN -9223372036854775807 - 1 ELSE id END) "
             "FROM %s ORDER BY id",
             I(t));
    int pg = store_backend(s) == STORE_POSTGRESQL;
    store_stmt *st = NULL;
    int last = 0;
    cr_assert_eq(store_prepare_stream(s, bad, &st), 0, "%s", store_errmsg(s));
    int64_t n = stream_count(st, 1, &last);
    cr_assert_eq(last, ERR_STORE, "%s: %s", err_name(last), store_errmsg(s));
    cr_assert_eq(n, pg ? STORE_STREAM_BATCH : 2499, "reported by the step that reaches it");
    cr_assert(overflowed(store_errmsg(s)), "%s", store_errmsg(s));
    if (pg)
        cr_assert_eq(store_step(st), ERR_STORE, "and again until the reset");
    store_stmt_reset(st);
    expect_usable(s, t);

    /* A statement that reads the failed FETCH first: on PostgreSQL it fails
     * (the FETCH aborted the stream's transaction) and says so, without taking
     * the FETCH's error, which the stream still reports where it belongs. */
    cr_assert_eq(store_prepare_stream(s, bad, &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_step(st), STORE_ROW, "%s", store_errmsg(s));
    int64_t v = 0;
    int rc = store_query_int(s, Q("SELECT count(*) FROM %s", I(t)), NULL, 0, &v);
    if (pg) {
        cr_assert_eq(rc, ERR_STORE);
        const char *msg = store_errmsg(s);
        cr_assert_not_null(strstr(msg, "current transaction is aborted"), "%s", msg);
        cr_assert_not_null(strstr(msg, "FETCH of a stream failed"), "%s", msg);
        cr_assert_null(strstr(msg, "out of range"), "%s", msg);
    } else {
        cr_assert_eq(rc, 1, "%s", store_errmsg(s));
        cr_assert_eq(v, STREAM_ROWS);
    }
    n = 1 + stream_count(st, 2, &last);
    cr_assert_eq(last, ERR_STORE, "%s: %s", err_name(last), store_errmsg(s));
    cr_assert_eq(n, pg ? STORE_STREAM_BATCH : 2499);
    cr_assert(overflowed(store_errmsg(s)), "%s", store_errmsg(s));
    store_stmt_reset(st);
    expect_usable(s, t);

    /* Reset without reaching it: nothing reported, nothing left behind. */
    cr_assert_eq(store_prepare_stream(s, bad, &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_step(st), STORE_ROW, "%s", store_errmsg(s));
    store_stmt_reset(st);
    expect_usable(s, t);

    /* In the caller's transaction, which the failure is the caller's to roll back. */
    cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_prepare_stream(s, bad, &st), 0, "%s", store_errmsg(s));
    n = stream_count(st, 1, &last);
    cr_assert_eq(last, ERR_STORE, "%s", store_errmsg(s));
    cr_assert_eq(n, pg ? STORE_STREAM_BATCH : 2499);
    store_stmt_reset(st);
    cr_assert_eq(store_in_transaction(s), 1);
    cr_assert_eq(store_rollback(s), 0, "%s", store_errmsg(s));
    expect_usable(s, t);

    /* Then a stream works. */
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(stream_read(st, 1, 0, &last), STREAM_ROWS);
    cr_assert_eq(last, STORE_DONE, "%s", store_errmsg(s));
    store_stmt_reset(st);
    store_close(s);
}

Test(store, stream_two_interleaved_row_by_row)
{
    store *s = open_db();
    const char *t = T("stream_rowwise");
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &a), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_prepare_stream(s, Q("SELECT id FROM %s ORDER BY id DESC", I(t)), &b), 0,
                 "%s", store_errmsg(s));
    char why[256] = "";
    for (int64_t id = 1; id <= STREAM_ROWS; id++) {
        cr_assert_eq(store_step(a), STORE_ROW, "a at %lld: %s", (long long)id, store_errmsg(s));
        cr_assert(stream_row_ok(a, id, why, sizeof why), "%s", why);
        cr_assert_eq(store_step(b), STORE_ROW, "b at %lld: %s", (long long)id, store_errmsg(s));
        cr_assert_eq(store_column_int(b, 0), STREAM_ROWS + 1 - id);
        if (id == 3 * STORE_STREAM_BATCH + 1) {
            /* A third stream starts, reads a batch and a bit, and ends. */
            int last = 0;
            cr_assert_eq(store_prepare_stream(s, stream_sql(t), &c), 0, "%s", store_errmsg(s));
            cr_assert_eq(stream_read(c, 1, STORE_STREAM_BATCH + 1, &last), STORE_STREAM_BATCH + 1);
            store_stmt_reset(c);
        }
    }
    cr_assert_eq(store_step(a), STORE_DONE, "%s", store_errmsg(s));
    cr_assert_eq(store_step(b), STORE_DONE, "%s", store_errmsg(s));
    store_stmt_reset(b);
    store_stmt_reset(a);
    expect_usable(s, t);
    store_close(s);
}

Test(store, pg_stream_prefetch_with_copy_and_commit)
{
    store *s = open_db();
    if (store_backend(s) != STORE_POSTGRESQL) {
        store_close(s);
        return; /* SQLite: a COPY and a COMMIT under an open read are its own matter */
    }
    const char *t = T("stream_copy"), *t2 = T("stream_copy_to");
    make_stream_table(s, t, STREAM_ROWS);
    exec_ok(s, Q("CREATE TABLE %s (id BIGINT)", I(t2)));
    /* A load (COPY) in the caller's transaction with a FETCH in flight. */
    cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    int last = 0;
    cr_assert_eq(stream_read(st, 1, 1, &last), 1);
    const char *cols[] = {"id"};
    store_loader *ld = NULL;
    cr_assert_eq(store_loader_begin(s, NULL, t2, cols, 1, &ld), 0, "%s", store_errmsg(s));
    for (int i = 0; i < 3; i++) {
        struct store_value row[] = {SV_INT(i)};
        cr_assert_eq(store_loader_row(ld, row), 0, "%s", store_errmsg(s));
    }
    cr_assert_eq(store_loader_end(ld, NULL), 0, "%s", store_errmsg(s));
    cr_assert_eq(count_rows(s, t2), 3);
    cr_assert_eq(stream_read(st, 2, 0, &last), STREAM_ROWS - 1, "%s", store_errmsg(s));
    cr_assert_eq(last, STORE_DONE, "%s", store_errmsg(s));
    store_stmt_reset(st);
    cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
    expect_usable(s, t);

    /* A commit with a FETCH in flight commits. The cursor ends with its
     * transaction: the stream fails once past the rows it holds, saying so. */
    cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
    struct store_value v[] = {SV_INT(7)};
    execv_ok(s, Q("INSERT INTO %s VALUES ($1)", I(t2)), v, 1);
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(stream_read(st, 1, 1, &last), 1);
    cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_in_transaction(s), 0);
    cr_assert_eq(count_rows(s, t2), 4, "committed");
    int64_t n = 1 + stream_count(st, 2, &last);
    cr_assert_eq(last, ERR_STORE, "%s: %s", err_name(last), store_errmsg(s));
    cr_assert_not_null(strstr(store_errmsg(s), "does not exist"), "%s", store_errmsg(s));
    cr_assert_geq(n, STORE_STREAM_BATCH);
    cr_assert_lt(n, STREAM_ROWS);
    store_stmt_reset(st);
    expect_usable(s, t);

    /* The same with a rollback, in the transaction the stream opened. */
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(stream_read(st, 1, 1, &last), 1);
    cr_assert_eq(store_rollback(s), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_in_transaction(s), 0);
    n = 1 + stream_count(st, 2, &last);
    cr_assert_eq(last, ERR_STORE, "%s: %s", err_name(last), store_errmsg(s));
    cr_assert_not_null(strstr(store_errmsg(s), "does not exist"), "%s", store_errmsg(s));
    cr_assert_geq(n, STORE_STREAM_BATCH);
    store_stmt_reset(st);
    expect_usable(s, t);
    store_close(s);
}

Test(store, pool_release_resets_open_stream)
{
    const char *t = T("pool_stream");
    store_pool *p = open_pool(1);
    store *s = NULL, *w = open_db();
    cr_assert_eq(store_pool_acquire(p, 100, &s), 0);
    make_stream_table(s, t, STREAM_ROWS);
    store_stmt *st = NULL, *st2 = NULL;
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st2), 0, "%s", store_errmsg(s));
    int last = 0;
    cr_assert_eq(stream_read(st, 1, 2500, &last), 2500);
    cr_assert_eq(stream_read(st2, 1, 1, &last), 1);
    store_pool_release(p, s); /* both streams left open */

    struct store_value v[] = {SV_INT(STREAM_ROWS + 1)};
    execv_ok(w, Q("INSERT INTO %s (id) VALUES ($1)", I(t)), v, 1);
    s = NULL;
    cr_assert_eq(store_pool_acquire(p, 100, &s), 0);
    cr_assert_eq(count_rows(s, t), STREAM_ROWS + 1, "no snapshot held over");
    expect_usable(s, t);
    cr_assert_eq(store_prepare_stream(s, stream_sql(t), &st), 0, "%s", store_errmsg(s));
    cr_assert_eq(stream_read(st, 1, STREAM_ROWS, &last), STREAM_ROWS);
    cr_assert_eq(store_step(st), STORE_ROW, "the row added meanwhile");
    cr_assert_eq(store_column_int(st, 0), STREAM_ROWS + 1);
    cr_assert_eq(store_step(st), STORE_DONE);
    store_stmt_reset(st);
    store_pool_release(p, s);
    store_pool_close(p);
    store_close(w);
}

/* ---- URLs ------------------------------------------------------------------------------------ */

Test(store, url_backend_detection)
{
    struct {
        const char *url;
        int rc;
        enum store_backend_kind kind;
    } cases[] = {
        {"sqlite:data/ferry.db", 0, STORE_SQLITE},
        {"sqlite://data/ferry.db", 0, STORE_SQLITE},
        {"sqlite:///srv/ferry.db", 0, STORE_SQLITE},
        {"SQLITE:x", 0, STORE_SQLITE},
        {"data/ferry.db", 0, STORE_SQLITE},
        {"/abs/x.sqlite", 0, STORE_SQLITE},
        {"x.sqlite3", 0, STORE_SQLITE},
        {"X.DB", 0, STORE_SQLITE},
        {"postgresql://u@h/db", 0, STORE_POSTGRESQL},
        {"postgres://h/db", 0, STORE_POSTGRESQL},
        {"mysql://h/db", ERR_INVAL, 0},
        {"http://h/x.db", ERR_INVAL, 0},
        {"ferry.txt", ERR_INVAL, 0},
        {".db", ERR_INVAL, 0},
        {"sqlite:", ERR_INVAL, 0},
        {"sqlite://", ERR_INVAL, 0},
        {"", ERR_INVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum store_backend_kind k = 0;
        cr_assert_eq(store_url_backend(cases[i].url, &k), cases[i].rc, "%s", cases[i].url);
        if (cases[i].rc == 0)
            cr_assert_eq(k, cases[i].kind, "%s", cases[i].url);
    }
    cr_assert_eq(store_url_backend(NULL, NULL), ERR_INVAL);
}

/* ---- PostgreSQL only ------------------------------------------------------------------------ */

static int pg_url(void)
{
    enum store_backend_kind k;
    return !g_dir[0] && store_url_backend(g_url, &k) == 0 && k == STORE_POSTGRESQL;
}

/* Copy url to out with its database name replaced by db. */
static void url_with_db(const char *url, const char *db, char *out, size_t outlen)
{
    const char *host = strstr(url, "://");
    cr_assert_not_null(host);
    host += 3;
    size_t pre = strcspn(host, "/?");
    const char *query = strchr(host + pre, '?');
    snprintf(out, outlen, "%.*s/%s%s", (int)(host + pre - url), url, db, query ? query : "");
}

/* Expect a connection failure: code, a one-line message containing want, no password. */
static void expect_open_error(const char *url, int code, const char *want)
{
    char err[512] = "";
    store *s = (store *)1;
    int rc = store_open(url, NULL, &s, err, sizeof err);
    cr_assert_eq(rc, code, "%s: %s (%s)", url, err_name(rc), err);
    cr_assert_null(s);
    cr_assert_not_null(strstr(err, want), "%s", err);
    cr_assert_null(strchr(err, '\n'), "one line: %s", err);
    cr_assert_null(strstr(err, "wrong-pw"), "no password: %s", err);
}

Test(store, pg_connection_errors_are_one_line)
{
    if (!pg_url())
        return;
    char url[PATH_MAX + 128];
    url_with_db(g_url, "ferry_no_such_db", url, sizeof url);
    expect_open_error(url, ERR_NOTFOUND, "database ferry_no_such_db does not exist");

    expect_open_error("postgresql://ferry_no_such_role:wrong-pw@127.0.0.1:1/x", ERR_UNAVAILABLE,
                      "cannot connect to 127.0.0.1:1: connection refused");

    const char *host = strstr(g_url, "://") + 3;
    const char *at = strchr(host, '@');
    snprintf(url, sizeof url, "postgresql://ferry_no_such_role:wrong-pw@%s", at ? at + 1 : host);
    expect_open_error(url, ERR_UNAUTHORIZED, "authentication failed for user ferry_no_such_role");

    const char *pw = getenv("FERRY_TEST_PG_PASSWORD_URL");
    if (pw && *pw) {
        const char *u = strstr(pw, "://") + 3;
        const char *colon = strchr(u, ':'), *pat = strchr(u, '@');
        cr_assert(colon && pat && colon < pat, "%s", pw);
        snprintf(url, sizeof url, "%.*s:wrong-pw%s", (int)(colon - pw), pw, pat);
        char user[64];
        snprintf(user, sizeof user, "authentication failed for user %.*s", (int)(colon - u), u);
        expect_open_error(url, ERR_UNAUTHORIZED, user);
    }
}

Test(store, pg_wait_retries_then_gives_up_or_fails_fast)
{
    if (!pg_url())
        return;
    char err[512] = "";
    double t0 = now_ms();
    int rc = store_wait("postgresql://u@127.0.0.1:1/x", NULL, 1, err, sizeof err);
    double waited = now_ms() - t0;
    cr_assert_eq(rc, ERR_UNAVAILABLE, "%s", err);
    cr_assert_geq(waited, 900.0, "retried for the wait: %.0f ms", waited);
    cr_assert_lt(waited, 5000.0);
    cr_assert_not_null(strstr(err, "connection refused"), "%s", err);

    char url[PATH_MAX + 128];
    url_with_db(g_url, "ferry_no_such_db", url, sizeof url);
    t0 = now_ms();
    cr_assert_eq(store_wait(url, NULL, 30, err, sizeof err), ERR_NOTFOUND, "%s", err);
    cr_assert_lt(now_ms() - t0, 5000.0, "a missing database fails at once");
    cr_assert_eq(store_wait(g_url, NULL, 5, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_wait("sqlite:/nonexistent/x.db", NULL, 5, err, sizeof err), 0);
}

Test(store, pg_pool_exhaustion_then_recovery)
{
    if (!pg_url())
        return;
    store_pool *p = open_pool(2);
    store *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq(store_pool_acquire(p, 100, &a), 0);
    cr_assert_eq(store_pool_acquire(p, 100, &b), 0);
    cr_assert_eq(store_pool_acquire(p, 100, &c), ERR_UNAVAILABLE);
    store_pool_release(p, b);
    cr_assert_eq(store_pool_acquire(p, 100, &c), 0);
    cr_assert_eq(store_ping(c), 0);
    store_pool_release(p, a);
    store_pool_release(p, c);
    store_pool_close(p);
}

/* Terminate the server side of connection pid from another connection. */
static void terminate_backend(int64_t pid)
{
    store *killer = open_db();
    struct store_value v = SV_INT(pid);
    cr_assert_eq(
        store_query_int(killer, "SELECT 1 FROM pg_terminate_backend($1) AS t WHERE t", &v, 1, NULL),
        1, "%s", store_errmsg(killer));
    store_close(killer);
    usleep(100 * 1000);
}

static int64_t backend_pid(store *s)
{
    int64_t pid = 0;
    cr_assert_eq(store_query_int(s, "SELECT pg_backend_pid()", NULL, 0, &pid), 1, "%s",
                 store_errmsg(s));
    return pid;
}

/* The pool pings a connection only when it has been idle for over a second (one
 * used moments ago is trusted); a connection found dead by a failed query is
 * closed when it is released. So a connection killed while recently used fails
 * one query (ERR_UNAVAILABLE) and is then replaced; one killed while idle longer
 * is replaced before it is handed out. */
Test(store, pg_broken_connection_is_replaced)
{
    if (!pg_url())
        return;
    store_pool *p = open_pool(1);
    store *s = NULL;
    cr_assert_eq(store_pool_acquire(p, 100, &s), 0);
    int64_t pid = backend_pid(s);
    store_pool_release(p, s);

    terminate_backend(pid); /* killed moments after use */
    cr_assert_eq(store_pool_acquire(p, 1000, &s), 0);
    int64_t ignored;
    cr_assert_eq(store_query_int(s, "SELECT 1", NULL, 0, &ignored), ERR_UNAVAILABLE);
    store_pool_release(p, s); /* found dead: closed, not kept */
    cr_assert_eq(store_pool_acquire(p, 1000, &s), 0);
    int64_t pid2 = backend_pid(s);
    cr_assert_neq(pid, pid2, "a new connection");
    store_pool_release(p, s);

    terminate_backend(pid2); /* killed, then idle past the ping threshold */
    usleep(1100 * 1000);
    cr_assert_eq(store_pool_acquire(p, 1000, &s), 0);
    cr_assert_neq(backend_pid(s), pid2, "replaced before it was handed out");
    store_pool_release(p, s);
    store_pool_close(p);
}

Test(store, pg_lost_connection_is_unavailable)
{
    if (!pg_url())
        return;
    store *s = open_db(), *killer = open_db();
    int64_t pid = 0;
    cr_assert_eq(store_query_int(s, "SELECT pg_backend_pid()", NULL, 0, &pid), 1);
    struct store_value v = SV_INT(pid);
    cr_assert_eq(
        store_query_int(killer, "SELECT 1 FROM pg_terminate_backend($1) AS t WHERE t", &v, 1, NULL),
        1);
    usleep(100 * 1000);
    cr_assert_eq(store_query_int(s, "SELECT 1", NULL, 0, NULL), ERR_UNAVAILABLE);
    cr_assert_null(strchr(store_errmsg(s), '\n'), "%s", store_errmsg(s));
    cr_assert_eq(store_ping(s), ERR_UNAVAILABLE);
    store_close(s);
    store_close(killer);
}

Test(store, pg_failed_transaction)
{
    if (!pg_url())
        return;
    store *s = open_db();
    cr_assert_eq(store_begin(s), 0);
    cr_assert_eq(store_exec(s, "SELEC 1"), ERR_STORE);
    cr_assert_eq(store_in_transaction(s), 1, "a failed transaction is still open");
    cr_assert_eq(store_commit(s), ERR_STORE, "commit of a failed transaction");
    cr_assert_eq(store_rollback(s), 0);
    cr_assert_eq(store_in_transaction(s), 0);
    cr_assert_eq(store_ping(s), 0);
    store_close(s);
}

Test(store, pg_loader_escapes_text_and_blobs)
{
    if (!pg_url())
        return;
    store *s = open_db();
    const char *t = T("load_esc");
    exec_ok(s, Q("CREATE TABLE %s (id BIGINT, t TEXT, b BYTEA, f BOOLEAN, n INTEGER)", I(t)));
    const char *cols[] = {"id", "t", "b", "f", "n"};
    const char *texts[] = {"a\\b", "tab\there", "new\nline", "cr\rx", "\\N", "", "é\\.\\"};
    const char blob[] = {0, '\\', '\t', '\n', (char)0xff};
    store_loader *ld = NULL;
    cr_assert_eq(store_loader_begin(s, NULL, t, cols, 5, &ld), 0, "%s", store_errmsg(s));
    for (int i = 0; i < 7; i++) {
        struct store_value row[] = {SV_INT(i), SV_TEXT(texts[i]), SV_BLOB(blob, sizeof blob),
                                    SV_BOOL(i % 2), SV_BOOL(1)};
        cr_assert_eq(store_loader_row(ld, row), 0, "%s", store_errmsg(s));
    }
    struct store_value nulls[] = {SV_INT(7), SV_NULL(), SV_NULL(), SV_NULL(), SV_NULL()};
    cr_assert_eq(store_loader_row(ld, nulls), 0);
    int64_t rows = 0;
    cr_assert_eq(store_loader_end(ld, &rows), 0, "%s", store_errmsg(s));
    cr_assert_eq(rows, 8);
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare(s, Q("SELECT t, b, f, n FROM %s ORDER BY id", I(t)), &st), 0);
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(store_step(st), STORE_ROW);
        size_t len = 0;
        if (i == 7) {
            cr_assert(store_column_is_null(st, 0), "NULL stays NULL, \"\\\\N\" stays text");
            cr_assert(store_column_is_null(st, 1));
            break;
        }
        cr_assert_str_eq(store_column_text(st, 0, NULL), texts[i]);
        const char *b = store_column_text(st, 1, &len);
        cr_assert_eq(len, sizeof blob);
        cr_assert_eq(memcmp(b, blob, len), 0);
        cr_assert_eq(store_column_int(st, 2), i % 2);
        cr_assert_eq(store_column_int(st, 3), 1);
    }
    store_stmt_reset(st);
    store_close(s);
}

Test(store, pg_main_schema_option)
{
    if (!pg_url())
        return;
    store *s = open_db();
    char schema[64];
    snprintf(schema, sizeof schema, "%sschema", g_prefix);
    exec_ok(s, Q("CREATE SCHEMA %s", I(schema)));
    store_close(s);

    struct store_options opt = {.main_schema = schema};
    char err[256] = "";
    cr_assert_eq(store_open(g_url, &opt, &s, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(store_default_schema(s), schema);
    exec_ok(s, "CREATE TABLE in_main (x INTEGER)"); /* unqualified: the main schema */
    int e = 0;
    cr_assert_eq(store_table_exists(s, schema, "in_main", &e), 0);
    cr_assert_eq(e, 1);
    cr_assert_eq(store_table_exists(s, "public", "in_main", &e), 0);
    cr_assert_eq(e, 0);
    exec_ok(s, Q("DROP SCHEMA %s CASCADE", I(schema)));
    store_close(s);

    opt.main_schema = "";
    cr_assert_eq(store_open(g_url, &opt, &s, err, sizeof err), ERR_INVAL);
}

Test(store, pg_typed_binds_without_casts)
{
    if (!pg_url())
        return;
    store *s = open_db();
    int64_t v = 0;
    struct store_value big = SV_INT(INT64_MAX - 1);
    cr_assert_eq(store_query_int(s, "SELECT $1 + 1", &big, 1, &v), 1, "%s", store_errmsg(s));
    cr_assert_eq(v, INT64_MAX);
    struct store_value b = SV_BOOL(1);
    cr_assert_eq(store_query_int(s, "SELECT CASE WHEN $1 THEN 7 ELSE 0 END", &b, 1, &v), 1, "%s",
                 store_errmsg(s));
    cr_assert_eq(v, 7);
    /* The same SQL with a NULL first, then an integer: prepared again with the type. */
    struct store_value n = SV_NULL();
    cr_assert_eq(store_query_int(s, "SELECT $1::bigint", &n, 1, &v), 0);
    cr_assert_eq(store_query_int(s, "SELECT $1::bigint", &big, 1, &v), 1);
    cr_assert_eq(v, INT64_MAX - 1);
    store_close(s);
}

/* Each connection sets TimeZone UTC and DateStyle ISO, whatever the session
 * would otherwise get (here the client's PGTZ and PGDATESTYLE, which libpq sends
 * at connect), so timestamptz values read back the same everywhere, from a
 * stream (FETCH, the simple protocol) as from a prepared statement. */
Test(store, pg_timestamptz_reads_back_utc)
{
    if (!pg_url())
        return;
    setenv("PGTZ", "Asia/Kolkata", 1); /* Criterion runs each test in its own process */
    setenv("PGDATESTYLE", "SQL, DMY", 1);
    store *s = open_db();
    struct buf b;
    buf_init(&b, 256);
    cr_assert_eq(store_query_text(s, "SHOW TimeZone", NULL, 0, &b), 1);
    cr_assert_str_eq(buf_cstr(&b), "UTC");
    cr_assert_eq(store_query_text(s, "SELECT TIMESTAMPTZ '2026-11-23 12:30:00+02'", NULL, 0, &b),
                 1);
    cr_assert_str_eq(buf_cstr(&b), "2026-11-23 10:30:00+00");

    const char *t = T("tstz");
    exec_ok(s, Q("CREATE TABLE %s (id INTEGER, at TIMESTAMPTZ, day DATE)", I(t)));
    struct store_value v[] = {SV_TEXT("2026-01-02T03:04:05.678+05:30"), SV_TEXT("2026-03-04")};
    execv_ok(s,
             Q("INSERT INTO %s SELECT g, $1::timestamptz + g * interval '1 hour', $2::date "
               "FROM generate_series(1, 2500) AS g",
               I(t)),
             v, 2);
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare_stream(s, Q("SELECT id, at, day FROM %s ORDER BY id", I(t)), &st), 0,
                 "%s", store_errmsg(s));
    cr_assert_eq(store_step(st), STORE_ROW, "%s", store_errmsg(s));
    cr_assert_eq(store_column_type(st, 1), STORE_TEXT);
    cr_assert_str_eq(store_column_text(st, 1, NULL), "2026-01-01 22:34:05.678+00");
    cr_assert_str_eq(store_column_text(st, 2, NULL), "2026-03-04");
    int rc;
    while ((rc = store_step(st)) == STORE_ROW && store_column_int(st, 0) < 2001)
        ;
    cr_assert_eq(rc, STORE_ROW, "%s", store_errmsg(s));
    cr_assert_str_eq(store_column_text(st, 1, NULL), "2026-03-26 06:34:05.678+00",
                     "the second batch too");
    store_stmt_reset(st);
    buf_free(&b);
    store_close(s);
}
