/*
 * migrate: status and apply against a fresh database per test (a migration test
 * needs a database of its own, which a shared STORE_TEST_URL cannot give), plus
 * checks that the schema's constraints hold.
 *
 * Backend: SQLite (a file in a mkdtemp directory) unless STORE_TEST_URL is a
 * postgresql:// URL; then each test creates a database of its own on that
 * server (CREATE DATABASE ferry_mig_<pid>_<n> through an admin connection to
 * FERRY_TEST_PG_ADMIN_URL or PG_TEST_URL if set, else to STORE_TEST_URL itself:
 * the role needs CREATEDB). With FERRY_TEST_PG=1 a missing postgresql://
 * STORE_TEST_URL fails every test instead of running on SQLite.
 * and drops it at the end (WITH (FORCE)).
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/migrate.h"
#include "store/store.h"

static char m_dir[PATH_MAX];
static char m_url[PATH_MAX + 64];
static char m_pgdb[64]; /* the database created for this test on PostgreSQL; "" otherwise */
static store *m_db;

/* Copy url to out with its database name (the path) replaced by db. */
static void url_with_db(const char *url, const char *db, char *out, size_t outlen)
{
    const char *hostpart = strstr(url, "://");
    cr_assert_not_null(hostpart, "%s", url);
    hostpart += 3;
    size_t pre = strcspn(hostpart, "/?"); /* user:pass@host:port */
    const char *rest = hostpart + pre;
    const char *query = strchr(rest, '?');
    snprintf(out, outlen, "%.*s/%s%s", (int)(hostpart + pre - url), url, db, query ? query : "");
}

/* Run one statement on the admin connection of the test server. */
static void pg_admin(const char *sql)
{
    const char *admin = getenv("FERRY_TEST_PG_ADMIN_URL");
    if (!admin || !*admin)
        admin = getenv("PG_TEST_URL");
    if (!admin || !*admin)
        admin = getenv("STORE_TEST_URL");
    store *a = NULL;
    char err[256] = "";
    cr_assert_eq(store_open(admin, NULL, &a, err, sizeof err), 0, "admin connection: %s", err);
    int rc = store_exec(a, sql);
    cr_assert_eq(rc, 0, "%s: %s", sql, store_errmsg(a));
    store_close(a);
}

static int is_pg(void)
{
    const char *env = getenv("STORE_TEST_URL");
    enum store_backend_kind k;
    return env && *env && store_url_backend(env, &k) == 0 && k == STORE_POSTGRESQL;
}

static void mig_init(void)
{
    static int seq;
    char err[256] = "";
    struct store_options opt = {.create = 1};
    m_dir[0] = m_pgdb[0] = '\0';
    const char *want_pg = getenv("FERRY_TEST_PG");
    if (want_pg && strcmp(want_pg, "1") == 0)
        cr_assert(is_pg(), "FERRY_TEST_PG=1 but STORE_TEST_URL is not a postgresql:// URL");
    if (is_pg()) {
        char sql[128];
        snprintf(m_pgdb, sizeof m_pgdb, "ferry_mig_%ld_%d", (long)getpid(), ++seq);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", m_pgdb);
        pg_admin(sql);
        url_with_db(getenv("STORE_TEST_URL"), m_pgdb, m_url, sizeof m_url);
    } else {
        snprintf(m_dir, sizeof m_dir, "/tmp/ferry-migrate-test-XXXXXX");
        cr_assert_not_null(mkdtemp(m_dir));
        snprintf(m_url, sizeof m_url, "sqlite:%s/m.db", m_dir);
    }
    cr_assert_eq(store_open(m_url, &opt, &m_db, err, sizeof err), 0, "%s", err);
}

static int mig_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void mig_fini(void)
{
    store_close(m_db);
    m_db = NULL;
    if (m_pgdb[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", m_pgdb);
        pg_admin(sql);
    } else {
        nftw(m_dir, mig_rm, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* The schema of the metadata tables (NULL: the default one, on SQLite). */
static const char *meta_schema(void)
{
    return store_backend(m_db) == STORE_POSTGRESQL ? "ferry" : NULL;
}

TestSuite(migrate, .init = mig_init, .fini = mig_fini);

static const char *const meta_tables[] = {"ferry_migrations", "ferry_clients",  "ferry_users",
                                          "ferry_sessions",   "ferry_datasets", "ferry_datafiles",
                                          "ferry_pipelines",  "ferry_runs",     "ferry_bookmarks"};

static void apply_all(void)
{
    int applied = -1;
    int rc = migrate_apply(m_db, &applied, NULL, NULL);
    cr_assert_eq(rc, 0, "%s: %s", err_name(rc), store_errmsg(m_db));
}

Test(migrate, embedded_list_is_dense)
{
    size_t n = 0;
    const struct migration *m = migrate_list(STORE_SQLITE, &n);
    cr_assert_not_null(m);
    cr_assert_geq(n, 1);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(m[i].version, (int)i + 1);
        cr_assert_gt(strlen(m[i].name), 0);
        cr_assert_gt(strlen(m[i].sql), 0);
    }
    cr_assert_str_eq(m[0].name, "init");
    size_t npg = 0;
    migrate_list(STORE_POSTGRESQL, &npg);
    cr_assert_eq(npg, n, "both backends carry the same versions");
}

Test(migrate, status_on_fresh_database)
{
    size_t n = 0;
    migrate_list(store_backend(m_db), &n);
    struct migrate_status st;
    cr_assert_eq(migrate_get_status(m_db, &st), 0, "%s", store_errmsg(m_db));
    cr_assert_eq(st.current, 0);
    cr_assert_eq(st.latest, (int)n);
    cr_assert_eq(st.pending, (int)n);
    cr_assert_eq(st.unknown, 0);
    int exists = 1;
    cr_assert_eq(store_table_exists(m_db, meta_schema(), "ferry_migrations", &exists), 0);
    cr_assert_eq(exists, 0, "status does not write");
}

struct progress {
    int calls;
    int last;
    int ordered;
};

static void on_progress(const struct migration *m, void *ctx)
{
    struct progress *p = ctx;
    p->calls++;
    if (m->version != p->last + 1)
        p->ordered = 0;
    p->last = m->version;
}

Test(migrate, apply_reaches_latest)
{
    struct progress pr = {.ordered = 1};
    int applied = -1;
    cr_assert_eq(migrate_apply(m_db, &applied, on_progress, &pr), 0, "%s", store_errmsg(m_db));
    struct migrate_status st;
    cr_assert_eq(migrate_get_status(m_db, &st), 0);
    cr_assert_eq(applied, st.latest);
    cr_assert_eq(pr.calls, st.latest);
    cr_assert(pr.ordered);
    cr_assert_eq(st.current, st.latest);
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(st.unknown, 0);
    cr_assert_eq(store_in_transaction(m_db), 0);
    for (size_t i = 0; i < sizeof meta_tables / sizeof meta_tables[0]; i++) {
        int exists = 0;
        cr_assert_eq(store_table_exists(m_db, meta_schema(), meta_tables[i], &exists), 0);
        cr_assert_eq(exists, 1, "%s missing", meta_tables[i]);
    }
    /* The record: name and an ISO-8601 UTC timestamp with milliseconds. */
    struct buf b;
    buf_init(&b, 128);
    cr_assert_eq(
        store_query_text(m_db, "SELECT name FROM ferry_migrations WHERE version = 1", NULL, 0, &b),
        1);
    cr_assert_str_eq(buf_cstr(&b), "init");
    cr_assert_eq(store_query_text(m_db, "SELECT applied_at FROM ferry_migrations WHERE version = 1",
                                  NULL, 0, &b),
                 1);
    const char *ts = buf_cstr(&b);
    cr_assert_eq(strlen(ts), 24, "%s", ts);
    cr_assert_eq(ts[4], '-');
    cr_assert_eq(ts[10], 'T');
    cr_assert_eq(ts[19], '.');
    cr_assert_eq(ts[23], 'Z');
    buf_free(&b);
}

Test(migrate, apply_again_is_noop)
{
    apply_all();
    int applied = -1;
    struct progress pr = {.ordered = 1};
    cr_assert_eq(migrate_apply(m_db, &applied, on_progress, &pr), 0);
    cr_assert_eq(applied, 0);
    cr_assert_eq(pr.calls, 0);
    int64_t n = 0;
    struct migrate_status st;
    cr_assert_eq(migrate_get_status(m_db, &st), 0);
    cr_assert_eq(store_query_int(m_db, "SELECT count(*) FROM ferry_migrations", NULL, 0, &n), 1);
    cr_assert_eq(n, st.latest);
}

Test(migrate, unknown_version_refuses)
{
    apply_all();
    struct migrate_status st;
    cr_assert_eq(migrate_get_status(m_db, &st), 0);
    struct store_value rec[] = {SV_INT(st.latest + 1), SV_TEXT("from_the_future"),
                                SV_TEXT("2099-01-01T00:00:00.000Z")};
    cr_assert_eq(store_execv(m_db,
                             "INSERT INTO ferry_migrations (version, name, applied_at) "
                             "VALUES ($1, $2, $3)",
                             rec, 3, NULL),
                 0);
    cr_assert_eq(migrate_get_status(m_db, &st), 0);
    cr_assert_eq(st.unknown, 1);
    cr_assert_eq(st.current, st.latest + 1);
    cr_assert_eq(st.pending, 0);
    int applied = -1;
    cr_assert_eq(migrate_apply(m_db, &applied, NULL, NULL), ERR_CONFLICT);
    cr_assert_eq(applied, 0);
    cr_assert_not_null(strstr(store_errmsg(m_db), "does not know"), "%s", store_errmsg(m_db));
}

Test(migrate, failing_migration_rolls_back)
{
    /* Forget that 0001 ran: applying it again fails (its tables exist). The failure
     * names the migration, leaves no record and no open transaction. */
    apply_all();
    cr_assert_eq(store_exec(m_db, "DELETE FROM ferry_migrations WHERE version = 1"), 0);
    cr_assert_eq(store_exec(m_db, "CREATE TABLE marker (x INTEGER)"), 0);
    int applied = -1;
    cr_assert_eq(migrate_apply(m_db, &applied, NULL, NULL), ERR_STORE);
    cr_assert_eq(applied, 0);
    cr_assert_not_null(strstr(store_errmsg(m_db), "0001_init"), "%s", store_errmsg(m_db));
    cr_assert_eq(store_in_transaction(m_db), 0);
    struct migrate_status st;
    cr_assert_eq(migrate_get_status(m_db, &st), 0);
    cr_assert_eq(st.pending, 1);
    int exists = 0;
    cr_assert_eq(store_table_exists(m_db, NULL, "marker", &exists), 0);
    cr_assert_eq(exists, 1);
}

Test(migrate, constraints_hold)
{
    apply_all();
    const char *now = "2026-01-01T00:00:00.000Z";
    struct store_value ok[] = {SV_TEXT("p1"), SV_TEXT("queued"), SV_TEXT(now)};
    struct store_value bad[] = {SV_TEXT("p1"), SV_TEXT("exploded"), SV_TEXT(now)};
    const char *ins = "INSERT INTO ferry_runs (pipeline, state, queued_at) VALUES ($1, $2, $3)";
    cr_assert_eq(store_execv(m_db, ins, bad, 3, NULL), ERR_CONSTRAINT, "bad run state accepted");
    cr_assert_eq(store_execv(m_db, ins, ok, 3, NULL), 0, "%s", store_errmsg(m_db));

    struct store_value mode[] = {SV_TEXT("p2"), SV_TEXT("sideways"), SV_TEXT(now)};
    cr_assert_eq(store_execv(m_db,
                             "INSERT INTO ferry_runs (pipeline, mode, queued_at) VALUES ($1, $2, "
                             "$3)",
                             mode, 3, NULL),
                 ERR_CONSTRAINT);

    const char *cli = "INSERT INTO ferry_clients (id, key_enc, algorithm, scopes, created_at, "
                      "updated_at) VALUES ($1, $2, $3, $4, $5, $5)";
    struct store_value c1[] = {SV_TEXT("c1"), SV_BLOB("k", 1), SV_TEXT("md5"), SV_TEXT("[]"),
                               SV_TEXT(now)};
    struct store_value c2[] = {SV_TEXT("c2"), SV_BLOB("k", 1), SV_TEXT("sha256"),
                               SV_TEXT("{\"not\": \"an array\"}"), SV_TEXT(now)};
    struct store_value c3[] = {SV_TEXT("c3"), SV_BLOB("k", 1), SV_TEXT("sha1"), SV_TEXT("[\"*\"]"),
                               SV_TEXT(now)};
    cr_assert_eq(store_execv(m_db, cli, c1, 5, NULL), ERR_CONSTRAINT, "bad algorithm");
    cr_assert_eq(store_execv(m_db, cli, c2, 5, NULL), ERR_CONSTRAINT, "scopes not an array");
    cr_assert_eq(store_execv(m_db, cli, c3, 5, NULL), 0, "%s", store_errmsg(m_db));

    struct store_value u[] = {SV_TEXT("ann"), SV_TEXT("superuser"), SV_TEXT(now)};
    cr_assert_eq(store_execv(m_db,
                             "INSERT INTO ferry_users (username, password_hash, role, created_at) "
                             "VALUES ($1, 'h', $2, $3)",
                             u, 3, NULL),
                 ERR_CONSTRAINT, "bad role");

    /* The registry (0003): a file may be registered before its dataset exists, a
     * forced reload of the same file is a second row, and unknown states and
     * modes are refused. */
    const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const char *df = "INSERT INTO ferry_datafiles (dataset, name, sha256, size, source, mode, "
                     "state, created_at) VALUES ($1, 'f.csv', $2, 10, 'file', $3, $4, $5)";
    struct store_value f[] = {SV_TEXT("ds"), SV_TEXT(sha), SV_TEXT("append"), SV_TEXT("received"),
                              SV_TEXT(now)};
    cr_assert_eq(store_execv(m_db, df, f, 5, NULL), 0, "%s", store_errmsg(m_db));
    cr_assert_eq(store_execv(m_db, df, f, 5, NULL), 0, "same file again: %s", store_errmsg(m_db));
    struct store_value bad_state[] = {SV_TEXT("ds"), SV_TEXT(sha), SV_TEXT("append"),
                                      SV_TEXT("processing"), SV_TEXT(now)};
    cr_assert_eq(store_execv(m_db, df, bad_state, 5, NULL), ERR_CONSTRAINT, "bad state");
    struct store_value bad_mode[] = {SV_TEXT("ds"), SV_TEXT(sha), SV_TEXT("merge"),
                                     SV_TEXT("received"), SV_TEXT(now)};
    cr_assert_eq(store_execv(m_db, df, bad_mode, 5, NULL), ERR_CONSTRAINT, "bad mode");
    struct store_value short_sha[] = {SV_TEXT("ds"), SV_TEXT("abc"), SV_TEXT("append"),
                                      SV_TEXT("received"), SV_TEXT(now)};
    cr_assert_eq(store_execv(m_db, df, short_sha, 5, NULL), ERR_CONSTRAINT, "sha256 length");

    /* Deleting a user deletes their sessions. */
    struct store_value u2[] = {SV_TEXT("bob"), SV_TEXT("viewer"), SV_TEXT(now)};
    cr_assert_eq(store_execv(m_db,
                             "INSERT INTO ferry_users (username, password_hash, role, created_at) "
                             "VALUES ($1, 'h', $2, $3)",
                             u2, 3, NULL),
                 0);
    cr_assert_eq(store_exec(m_db, "INSERT INTO ferry_sessions (id, user_id, csrf_token, "
                                  "created_at, expires_at) SELECT 'tok', id, 'c', 'a', 'b' FROM "
                                  "ferry_users WHERE username = 'bob'"),
                 0, "%s", store_errmsg(m_db));
    cr_assert_eq(store_exec(m_db, "DELETE FROM ferry_users WHERE username = 'bob'"), 0);
    int64_t n = -1;
    cr_assert_eq(store_query_int(m_db, "SELECT count(*) FROM ferry_sessions", NULL, 0, &n), 1);
    cr_assert_eq(n, 0);
}

Test(migrate, status_needs_a_store)
{
    struct migrate_status st;
    cr_assert_eq(migrate_get_status(NULL, &st), ERR_INVAL);
    cr_assert_eq(migrate_apply(NULL, NULL, NULL, NULL), ERR_INVAL);
}

/* PostgreSQL: the schemas migrate creates. */
Test(migrate, pg_schemas)
{
    if (store_backend(m_db) != STORE_POSTGRESQL)
        return;
    apply_all();
    const char *schemas[] = {"ferry", "backup", "public"};
    for (size_t i = 0; i < 3; i++) {
        struct store_value v = SV_TEXT(schemas[i]);
        cr_assert_eq(
            store_query_int(m_db, "SELECT 1 FROM pg_namespace WHERE nspname = $1", &v, 1, NULL), 1,
            "schema %s", schemas[i]);
    }
    /* Booleans read as 0/1 and blobs come back as raw bytes. */
    const char raw[] = {0, 1, '\\', (char)0xff};
    struct store_value c[] = {SV_TEXT("c9"), SV_BLOB(raw, sizeof raw), SV_BOOL(0),
                              SV_TEXT("2026-01-01T00:00:00.000Z")};
    cr_assert_eq(store_execv(m_db,
                             "INSERT INTO ferry_clients (id, key_enc, enabled, created_at, "
                             "updated_at) VALUES ($1, $2, $3, $4, $4)",
                             c, 4, NULL),
                 0, "%s", store_errmsg(m_db));
    store_stmt *st = NULL;
    cr_assert_eq(store_prepare(m_db, "SELECT key_enc, enabled FROM ferry_clients", &st), 0);
    cr_assert_eq(store_step(st), STORE_ROW);
    size_t len = 0;
    const char *p = store_column_text(st, 0, &len);
    cr_assert_eq(len, sizeof raw);
    cr_assert_eq(memcmp(p, raw, len), 0);
    cr_assert_eq(store_column_int(st, 1), 0);
    store_stmt_reset(st);
}

struct racer {
    int rc;
    int applied;
    char err[256];
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    store *s = NULL;
    r->rc = store_open(m_url, NULL, &s, r->err, sizeof r->err);
    if (r->rc == 0) {
        r->rc = migrate_apply(s, &r->applied, NULL, NULL);
        if (r->rc < 0)
            snprintf(r->err, sizeof r->err, "%s", store_errmsg(s));
    }
    store_close(s);
    return NULL;
}

/* Two processes (here: connections on threads) migrating one fresh database at
 * once: both succeed, each migration is applied exactly once. */
Test(migrate, concurrent_apply_applies_once)
{
    enum { N = 4 };
    struct racer r[N];
    pthread_t th[N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
    int total = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(r[i].rc, 0, "racer %d: %s: %s", i, err_name(r[i].rc), r[i].err);
        total += r[i].applied;
    }
    struct migrate_status st;
    cr_assert_eq(migrate_get_status(m_db, &st), 0, "%s", store_errmsg(m_db));
    cr_assert_eq(total, st.latest);
    cr_assert_eq(st.pending, 0);
    int64_t n = 0;
    cr_assert_eq(store_query_int(m_db, "SELECT count(*) FROM ferry_migrations", NULL, 0, &n), 1);
    cr_assert_eq(n, st.latest);
}
