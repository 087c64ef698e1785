/*
 * migrate: parses the embedded migration files once (pthread_once) into one
 * table per backend, validates them, and applies the pending ones.
 *
 * File names are NNNN_name.BACKEND.sql. The embedded array is sorted by name,
 * so each backend's files come in version order; the table is valid when the
 * versions of each backend are exactly 1..n and, when both backends have files,
 * they carry the same versions with the same names. A malformed set is a build
 * defect: migrate_list() returns nothing for it and migrate_get_status() /
 * migrate_apply() fail with ERR_INTERNAL and say why in store_errmsg.
 *
 * ferry_migrations is created by migrate itself (not by a migration file), so
 * status works on an empty database and the record table exists before the
 * first migration runs. Each migration runs between store_begin and
 * store_commit together with its record; inside that transaction the record is
 * checked again, so two processes migrating at once do not apply a version twice
 * (SQLite: BEGIN IMMEDIATE serialises them). On PostgreSQL, whose BEGIN takes no
 * lock, the whole of migrate_apply (status, creating the schemas and the record
 * table, every migration) runs under a session advisory lock
 * (pg_advisory_lock(MIGRATE_LOCK_KEY)): a second process waits, then finds
 * nothing pending. migrate also creates the configured main schema there
 * (store_default_schema), which a static migration file cannot name.
 */
#include "store/migrate.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/embed.h"
#include "core/clock.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/store_int.h"

EMBED_DECLARE(migrations);

/* The PostgreSQL advisory lock key of migrations ("ferrymig" in ASCII). */
#define MIGRATE_LOCK_KEY "7378146491316136295"

#define MIGRATE_MAX      512
#define MIGRATE_NAME_MAX 64

enum { B_SQLITE, B_PG, B_COUNT };

static const char *const backend_suffix[B_COUNT] = {".sqlite.sql", ".pg.sql"};

struct mig_table {
    struct migration list[MIGRATE_MAX];
    char names[MIGRATE_MAX][MIGRATE_NAME_MAX];
    size_t n;
};

static struct mig_table tables[B_COUNT];
static char table_error[256]; /* "" when the embedded set is valid */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* The schema holding metadata tables, and the SQL creating the record table. */
static const char *meta_schema(const store *s)
{
    return store_backend(s) == STORE_SQLITE ? "main" : "ferry";
}

static const char *create_sql(const store *s)
{
    if (store_backend(s) == STORE_SQLITE)
        return "CREATE TABLE IF NOT EXISTS ferry_migrations (\n"
               "    version INTEGER PRIMARY KEY,\n"
               "    name TEXT NOT NULL,\n"
               "    applied_at TEXT NOT NULL\n"
               ")";
    return "CREATE SCHEMA IF NOT EXISTS ferry;\n"
           "CREATE TABLE IF NOT EXISTS ferry.ferry_migrations (\n"
           "    version INTEGER PRIMARY KEY,\n"
           "    name TEXT NOT NULL,\n"
           "    applied_at TEXT NOT NULL\n"
           ")";
}

/* Parse "NNNN_name.BACKEND.sql" into the tables; returns 0 or writes table_error. */
static int parse_one(const struct embedded_file *f)
{
    const char *fn = f->name;
    size_t len = strlen(fn);
    int b = -1;
    for (int i = 0; i < B_COUNT; i++) {
        size_t sl = strlen(backend_suffix[i]);
        if (len > sl && strcmp(fn + len - sl, backend_suffix[i]) == 0) {
            b = i;
            len -= sl; /* fn[0..len) is NNNN_name */
        }
    }
    const char *us = memchr(fn, '_', len);
    if (b < 0 || !us || us == fn || us + 1 == fn + len) {
        snprintf(table_error, sizeof table_error,
                 "embedded migration %s: expected NNNN_name.sqlite.sql or NNNN_name.pg.sql", fn);
        return -1;
    }
    long version = 0;
    for (const char *p = fn; p < us; p++) {
        if (*p < '0' || *p > '9' || version > 100000) {
            snprintf(table_error, sizeof table_error, "embedded migration %s: bad version number",
                     fn);
            return -1;
        }
        version = version * 10 + (*p - '0');
    }
    struct mig_table *t = &tables[b];
    size_t nlen = (size_t)(fn + len - (us + 1));
    if (t->n >= MIGRATE_MAX || nlen >= MIGRATE_NAME_MAX) {
        snprintf(table_error, sizeof table_error,
                 "embedded migration %s: too many or name too long", fn);
        return -1;
    }
    if (version != (long)t->n + 1) {
        snprintf(table_error, sizeof table_error,
                 "embedded migration %s: version %ld where %zu was expected (versions must be "
                 "dense from 1)",
                 fn, version, t->n + 1);
        return -1;
    }
    memcpy(t->names[t->n], us + 1, nlen);
    t->names[t->n][nlen] = '\0';
    t->list[t->n] =
        (struct migration){.version = (int)version, .name = t->names[t->n], .sql = f->data};
    t->n++;
    return 0;
}

static void tables_init(void)
{
    for (size_t i = 0; i < embed_migrations_count; i++)
        if (parse_one(&embed_migrations[i]) < 0)
            goto bad;
    struct mig_table *a = &tables[B_SQLITE], *b = &tables[B_PG];
    if (a->n > 0 && b->n > 0) {
        if (a->n != b->n) {
            snprintf(table_error, sizeof table_error,
                     "embedded migrations: %zu for sqlite but %zu for pg", a->n, b->n);
            goto bad;
        }
        for (size_t i = 0; i < a->n; i++) {
            if (strcmp(a->names[i], b->names[i]) != 0) {
                snprintf(table_error, sizeof table_error,
                         "embedded migrations: version %zu is %s for sqlite but %s for pg", i + 1,
                         a->names[i], b->names[i]);
                goto bad;
            }
        }
    }
    return;
bad:
    for (int i = 0; i < B_COUNT; i++)
        tables[i].n = 0;
}

const struct migration *migrate_list(enum store_backend_kind backend, size_t *n)
{
    pthread_once(&tables_once, tables_init);
    int b = backend == STORE_SQLITE ? B_SQLITE : backend == STORE_POSTGRESQL ? B_PG : -1;
    if (b < 0 || table_error[0] || tables[b].n == 0) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (n)
        *n = tables[b].n;
    return tables[b].list;
}

/* The embedded list for s, or ERR_INTERNAL with the reason in errmsg. */
static int list_for(store *s, const struct migration **list, size_t *n)
{
    *list = migrate_list(store_backend(s), n);
    if (table_error[0]) {
        store__set_errmsg(s, "%s", table_error);
        return ERR_INTERNAL;
    }
    return 0;
}

/* Read the applied versions into applied[1..latest] and count the unknown ones. */
static int read_applied(store *s, size_t latest, unsigned char *applied, struct migrate_status *st)
{
    int exists = 0;
    int rc = store_table_exists(s, meta_schema(s), "ferry_migrations", &exists);
    if (rc < 0 || !exists)
        return rc;
    store_stmt *q = NULL;
    rc = store_prepare(s, "SELECT version FROM ferry_migrations ORDER BY version", &q);
    if (rc < 0)
        return rc;
    while ((rc = store_step(q)) == STORE_ROW) {
        int64_t v = store_column_int(q, 0);
        if (v >= 1 && (uint64_t)v <= latest)
            applied[v] = 1;
        else
            st->unknown++;
        if (v > st->current)
            st->current = v > 1000000 ? 1000000 : (int)v;
    }
    store_stmt_reset(q);
    return rc < 0 ? rc : 0;
}

static int status(store *s, unsigned char *applied, struct migrate_status *out)
{
    const struct migration *list;
    size_t n;
    memset(out, 0, sizeof *out);
    int rc = list_for(s, &list, &n);
    if (rc < 0)
        return rc;
    out->latest = (int)n;
    rc = read_applied(s, n, applied, out);
    if (rc < 0)
        return rc;
    for (size_t v = 1; v <= n; v++)
        if (!applied[v])
            out->pending++;
    return 0;
}

int migrate_get_status(store *s, struct migrate_status *out)
{
    unsigned char applied[MIGRATE_MAX + 1] = {0};
    if (!s || !out)
        return ERR_INVAL;
    return status(s, applied, out);
}

/* Apply one migration with its record in one transaction. 1 if applied, 0 if
 * another process recorded it first, <0 on failure (rolled back). */
static int apply_one(store *s, const struct migration *m)
{
    char ts[CLOCK_ISO_MAX];
    int rc = store_begin(s);
    if (rc < 0)
        return rc;
    struct store_value ver = SV_INT(m->version);
    rc = store_query_int(s, "SELECT 1 FROM ferry_migrations WHERE version = $1", &ver, 1, NULL);
    if (rc != 0) {
        store_rollback(s);
        return rc < 0 ? rc : 0;
    }
    rc = store_exec(s, m->sql);
    if (rc < 0) {
        char msg[STORE_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", store_errmsg(s));
        store__set_errmsg(s, "migration %04d_%s: %s", m->version, m->name, msg);
        goto fail;
    }
    clock_now_iso(ts);
    struct store_value rec[3] = {SV_INT(m->version), SV_TEXT(m->name), SV_TEXT(ts)};
    rc = store_execv(s,
                     "INSERT INTO ferry_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                     rec, 3, NULL);
    if (rc < 0)
        goto fail;
    rc = store_commit(s);
    if (rc < 0)
        goto fail;
    return 1;
fail:
    store_rollback(s);
    return rc == ERR_CONSTRAINT || rc == ERR_INVAL ? ERR_STORE : rc;
}

static int apply_all(store *s, int *applied, migrate_progress_fn progress, void *ctx)
{
    unsigned char done[MIGRATE_MAX + 1] = {0};
    struct migrate_status st;
    int count = 0;
    int rc = status(s, done, &st);
    if (rc < 0)
        return rc;
    if (st.unknown > 0) {
        store__set_errmsg(s,
                          "the database has %d migration(s) this ferry does not know (a newer "
                          "ferry ran on it); refusing to migrate",
                          st.unknown);
        return ERR_CONFLICT;
    }
    if (st.pending == 0)
        return 0;
    rc = store_exec(s, create_sql(s));
    if (rc < 0)
        return rc;
    if (store_backend(s) == STORE_POSTGRESQL) {
        struct buf sql;
        buf_init(&sql, 256);
        rc = buf_puts(&sql, "CREATE SCHEMA IF NOT EXISTS ");
        if (rc == 0)
            rc = store_quote_ident(store_default_schema(s), &sql);
        if (rc == 0)
            rc = store_exec(s, buf_cstr(&sql));
        buf_free(&sql);
        if (rc < 0)
            return rc;
    }
    size_t n;
    const struct migration *list = migrate_list(store_backend(s), &n);
    for (size_t i = 0; i < n; i++) {
        if (done[list[i].version])
            continue;
        rc = apply_one(s, &list[i]);
        if (rc < 0)
            break;
        if (rc == 1) {
            count++;
            if (progress)
                progress(&list[i], ctx);
        }
        rc = 0;
    }
    if (applied)
        *applied = count;
    return rc;
}

int migrate_apply(store *s, int *applied, migrate_progress_fn progress, void *ctx)
{
    if (applied)
        *applied = 0;
    if (!s)
        return ERR_INVAL;
    if (store_backend(s) != STORE_POSTGRESQL)
        return apply_all(s, applied, progress, ctx);
    int rc = store_exec(s, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
    if (rc < 0)
        return rc;
    rc = apply_all(s, applied, progress, ctx);
    char msg[STORE_ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", store_errmsg(s)); /* keep the migration's error */
    int urc = store_exec(s, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
    if (rc == 0 && urc < 0)
        return urc;
    store__set_errmsg(s, "%s", msg);
    return rc;
}
